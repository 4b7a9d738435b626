"""The chat page in a real headless Chromium against `hubao web`: a quote by typing, a whole
enrollment (roster through the file input, steps answered by typing and by buttons, the
clean roster downloaded and read), a reload in the middle that continues where it was, and a
phone-sized window. Screenshots of each state go to tests/web_browser/screenshots/.

The servers run as a user starts them: SQLite in their data folder. The enrollment also
survives a restart of the server in its middle."""

from __future__ import annotations

import base64
import io

import openpyxl
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from helpers import roster_upload
from roster_builders import TEMPLATE_HEADER
from web_browser.harness import as_phone, screenshot

WAIT = 60


def open_chat(driver, server):
    driver.get(server.url)
    WebDriverWait(driver, WAIT).until(
        lambda d: d.find_element(By.ID, "chat").get_attribute("data-ready") == "true"
    )


def bot_messages(driver):
    return driver.find_elements(By.CSS_SELECTOR, "#log .msg-bot")


def answered(driver, before):
    """Wait for the page to show the reply to what was just sent; its text."""

    def done(d):
        idle = d.find_element(By.ID, "chat").get_attribute("aria-busy") == "false"
        return idle and len(bot_messages(d)) > before

    WebDriverWait(driver, WAIT).until(done)
    return "\n".join(m.text for m in bot_messages(driver)[before:])


def type_message(driver, text):
    before = len(bot_messages(driver))
    box = driver.find_element(By.ID, "text")
    box.send_keys(text)
    box.send_keys(Keys.ENTER)
    return answered(driver, before)


def press(driver, value):
    before = len(bot_messages(driver))
    button = WebDriverWait(driver, WAIT).until(
        lambda d: d.find_element(By.CSS_SELECTOR, f'#choices button[data-value="{value}"]')
    )
    button.click()
    return answered(driver, before)


def test_a_unit_gets_a_quote_by_typing(web_server, browser_factory):
    server = web_server()
    driver = browser_factory()
    open_chat(driver, server)
    assert "互保助手" in bot_messages(driver)[0].text  # the greeting of a new conversation
    screenshot(driver, "chat-new")
    assert "几位员工" in type_message(driver, "帮我算一下A0 B0 C0的保费")
    assert "从哪天起保" in type_message(driver, "5个有社保的3个没有")
    dates = driver.find_elements(By.CSS_SELECTOR, "#choices button")
    assert dates, "the start dates are offered as buttons"
    before = len(bot_messages(driver))
    dates[0].click()
    quote = answered(driver, before)
    assert "合计：" in quote and "职保在职人员】5人" in quote
    user = driver.find_elements(By.CSS_SELECTOR, "#log .msg-user .msg-text")
    assert [u.text for u in user[:2]] == ["帮我算一下A0 B0 C0的保费", "5个有社保的3个没有"]
    screenshot(driver, "chat-quote")


def test_a_whole_enrollment_with_a_reload_in_the_middle(web_server, browser_factory, tmp_path):
    server = web_server()
    driver = browser_factory()
    open_chat(driver, server)
    assert "参加过集中参保吗" in type_message(driver, "我要参保")
    assert "哪天在平台提交" in press(driver, "v:没有")
    assert "保障期2023年7月11日至2024年6月30日" in type_message(driver, "今天")
    press(driver, "v:yes")
    asked = press(driver, "v:yes")
    assert "经办人" in asked

    # Reload mid-flow: the conversation is shown again and the question's buttons are back.
    driver.refresh()
    open_chat(driver, server)
    log = driver.find_element(By.ID, "log").text
    assert "我要参保" in log and "经办人" in log
    screenshot(driver, "chat-enroll-reloaded")
    assert "单位全称" in press(driver, "v:yes")

    # The server restarts (a deployment): the page comes back from the database.
    server.stop()
    server = web_server(data_dir=server.data_dir)
    open_chat(driver, server)
    assert "单位全称" in bot_messages(driver)[-1].text
    assert "2023年7月11日" in type_message(driver, "上海网页测试有限公司")

    name, data = roster_upload({"people": 4})
    roster = tmp_path / name
    roster.write_bytes(data)
    before = len(bot_messages(driver))
    driver.find_element(By.ID, "file").send_keys(str(roster))
    checked = answered(driver, before)
    assert "共4行，可以参保4人" in checked and "名单没有问题" in checked
    assert not driver.find_element(By.ID, "progress").is_displayed()
    screenshot(driver, "chat-enroll-checked")

    assert "去年" in type_message(driver, "下一步")
    assert "交社保的一共多少人" in press(driver, "v:unknown")
    assert "在职住院（A系列）" in type_message(driver, "4人")
    press(driver, "v:A0")
    press(driver, "v:B0")
    summary = press(driver, "v:C0")
    assert "合计：720元" in summary
    screenshot(driver, "chat-enroll-done")

    clean = "上海网页测试有限公司_参保名单（可导入）_20230710.xlsx"
    links = {a.text: a for a in driver.find_elements(By.CSS_SELECTOR, "#log a.file")}
    assert clean in links
    links[clean].click()
    target = driver.downloads / clean
    WebDriverWait(driver, WAIT).until(lambda d: target.exists() and target.stat().st_size > 0)
    rows = list(openpyxl.load_workbook(io.BytesIO(target.read_bytes())).active.values)
    assert list(rows[0]) == TEMPLATE_HEADER
    assert [r[1] for r in rows[1:]] == ["员工1", "员工2", "员工3", "员工4"]
    assert all(r[7] == "是" for r in rows[1:])


def test_a_phone_sized_window_works(web_server, browser_factory):
    server = web_server()
    driver = browser_factory()
    as_phone(driver)
    open_chat(driver, server)
    reply = type_message(driver, "<b>保费</b>交到哪里？" + "很长的问题" * 20)
    assert reply
    # What was typed is shown as text, never as markup.
    assert driver.find_elements(By.CSS_SELECTOR, "#log b") == []
    shown = driver.find_elements(By.CSS_SELECTOR, "#log .msg-user .msg-text")[-1].text
    assert shown.startswith("<b>保费</b>交到哪里？")
    width = driver.execute_script("return document.documentElement.clientWidth")
    scroll = driver.execute_script("return document.documentElement.scrollWidth")
    assert width <= 360 and scroll <= width, (width, scroll)
    for element_id in ("text", "send"):
        element = driver.find_element(By.ID, element_id)
        assert element.is_displayed()
        box = element.rect
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
    screenshot(driver, "chat-phone")


DROP = """
const [name, encoded] = arguments;
const bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
const transfer = new DataTransfer();
transfer.items.add(new File([bytes], name));
for (const type of ["dragenter", "dragover", "drop"]) {
  document.getElementById("log").dispatchEvent(
    new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true })
  );
}
"""


WATCH_PROGRESS = """
window.progressSeen = [];
const line = document.getElementById("progress");
new MutationObserver(() => window.progressSeen.push(line.textContent)).observe(line, {
  childList: true, characterData: true, subtree: true,
});
"""


def test_a_dropped_roster_is_checked_with_its_progress_shown(web_server, browser_factory):
    server = web_server()
    driver = browser_factory()
    open_chat(driver, server)
    for words in ["我要参保", "没有", "今天", "有", "有", "填过了", "上海拖放测试有限公司"]:
        type_message(driver, words)
    name, data = roster_upload({"people": 1200})
    before = len(bot_messages(driver))
    driver.execute_script(WATCH_PROGRESS)
    driver.execute_script(DROP, name, base64.b64encode(data).decode())
    checked = answered(driver, before)
    assert "共1200行，可以参保1200人" in checked
    # The check's progress was shown while it ran (read from the NDJSON stream).
    shown = driver.execute_script("return window.progressSeen")
    assert any(line.startswith("正在检查名单：已读取") for line in shown), shown
    user = driver.find_elements(By.CSS_SELECTOR, "#log .msg-user .msg-text")[-1].text
    assert name in user
    assert not driver.find_element(By.ID, "drop").is_displayed()
    screenshot(driver, "chat-dropped")
