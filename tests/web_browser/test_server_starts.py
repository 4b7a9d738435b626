"""The harness itself: `hubao web` starts on a free port and Chromium reaches it."""

from web_browser.harness import screenshot


def test_chromium_reaches_a_started_server(web_server, browser_factory):
    server = web_server()
    driver = browser_factory()
    driver.get(server.url + "healthz")
    assert driver.find_element("tag name", "body").text == "ok"
    assert screenshot(driver, "healthz").stat().st_size > 0
