// The console's one behaviour: the "copy" button next to each answer.
// Its words come from the button's data-copied / data-failed attributes (the catalog);
// the answer is read with textContent and nothing is ever written as HTML.
"use strict";

function fallbackCopy(text) {
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.className = "offscreen";
  document.body.appendChild(area);
  area.select();
  let done = false;
  try {
    done = document.execCommand("copy");
  } catch (error) {
    done = false;
  }
  area.remove();
  return done;
}

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (error) {
      // Permission refused or not focused: the old way may still work.
    }
  }
  return fallbackCopy(text);
}

function setUp(button) {
  button.addEventListener("click", async () => {
    const target = document.getElementById(button.dataset.target || "");
    const status = button.parentElement.querySelector(".copy-status");
    if (!target) {
      return;
    }
    const done = await copyText(target.textContent.trim());
    if (status) {
      status.textContent = done ? button.dataset.copied : button.dataset.failed;
      status.classList.toggle("error", !done);
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("button.copy").forEach(setUp);
});
