"""The hotline console in a real headless Chromium against `hubao web` on its SQLite
database: an account made with `hubao web add-user`, login, a search with its answers and
scores, the copy button, a question nobody could answer among the misses, a phone-sized
window, logout. Screenshots: console-login, console-search, console-misses,
console-phone."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import WebDriverWait

from web_browser.harness import as_phone, screenshot

NAME = "alice"
PASSWORD = "correct horse battery"
UNANSWERED = "公司食堂的菜单每周在哪里公布"


def wait(driver: WebDriver, seconds: float = 15) -> WebDriverWait:
    return WebDriverWait(driver, seconds)


def log_in(driver: WebDriver, base: str, password: str = PASSWORD) -> None:
    driver.get(base + "console")
    wait(driver).until(seen.url_contains("/console/login"))
    driver.find_element(By.ID, "login-name").send_keys(NAME)
    driver.find_element(By.ID, "login-password").send_keys(password)
    driver.find_element(By.ID, "login-submit").click()


def walk_through(driver: WebDriver, base: str) -> None:
    """What a hotline user does; ``base`` is the server's address ending with '/'."""
    log_in(driver, base, password="not the password")
    error = wait(driver).until(seen.visibility_of_element_located((By.ID, "login-error")))
    assert "账号或密码不对" in error.text
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-CN"
    screenshot(driver, "console-login")

    driver.find_element(By.ID, "login-password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login-submit").click()
    wait(driver).until(seen.presence_of_element_located((By.ID, "figures")))
    figures = driver.find_element(By.ID, "figures")
    assert len(figures.find_elements(By.CSS_SELECTOR, "svg g.day")) == 7

    box = driver.find_element(By.ID, "q")
    box.send_keys("清册附件怎么上传", Keys.ENTER)  # Enter submits, as the button does
    wait(driver).until(seen.presence_of_element_located((By.CSS_SELECTOR, ".result")))
    results = driver.find_elements(By.CSS_SELECTOR, ".result")
    best = results[0]
    assert best.find_element(By.CSS_SELECTOR, ".question").text == "清册附件怎么上传？"
    assert "清册提交" in best.find_element(By.CSS_SELECTOR, ".answer").text
    assert best.find_element(By.CSS_SELECTOR, ".score").text.endswith("%")
    assert best.find_elements(By.CSS_SELECTOR, ".related li")
    best.find_element(By.CSS_SELECTOR, "button.copy").click()
    status = best.find_element(By.CSS_SELECTOR, ".copy-status")
    wait(driver).until(lambda _: status.text != "")
    assert status.text == "已复制"
    screenshot(driver, "console-search")

    driver.find_element(By.CSS_SELECTOR, "nav a[href='/console/misses']").click()
    wait(driver).until(seen.presence_of_element_located((By.CSS_SELECTOR, ".miss")))
    misses = driver.find_elements(By.CSS_SELECTOR, ".miss")
    mine = [m for m in misses if m.find_element(By.CSS_SELECTOR, ".question").text == UNANSWERED]
    assert len(mine) == 1
    assert mine[0].find_element(By.CSS_SELECTOR, ".count").text == "问过 1 次"
    assert mine[0].find_element(By.CSS_SELECTOR, ".closest").text
    screenshot(driver, "console-misses")

    driver.find_element(By.ID, "logout").click()
    wait(driver).until(seen.url_contains("/console/login"))
    driver.get(base + "console")
    wait(driver).until(seen.url_contains("/console/login"))


def phone_check(driver: WebDriver, base: str) -> None:
    """At 360 px the search and its answers fit the width: nothing scrolls sideways."""
    as_phone(driver)
    log_in(driver, base)
    wait(driver).until(seen.presence_of_element_located((By.ID, "q")))
    driver.find_element(By.ID, "q").send_keys("参保编码怎么申请")
    driver.find_element(By.ID, "search").click()
    wait(driver).until(seen.presence_of_element_located((By.CSS_SELECTOR, ".result")))
    width = driver.execute_script("return document.documentElement.clientWidth")
    assert width <= 360
    assert driver.execute_script("return document.documentElement.scrollWidth") <= width
    assert driver.find_element(By.ID, "search").is_displayed()
    screenshot(driver, "console-phone")


def test_the_hotline_user_logs_in_searches_and_sees_a_miss(web_server, browser_factory):
    server = web_server()
    made = server.run_cli("web", "add-user", NAME, stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert made.returncode == 0, made.stderr
    assert PASSWORD not in made.stdout + made.stderr
    # A question nobody can answer, asked on the same database: it becomes a miss.
    asked = server.run_cli("ask", UNANSWERED)
    assert asked.returncode == 0, asked.stderr
    walk_through(browser_factory(), server.url)
    phone_check(browser_factory(), server.url)
