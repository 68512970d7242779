"""The web widget, and rasa-webchat 1.0.1, in real headless Chromium (Debian's), against the running assistant."""

import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import record_figure
from helpers import ROOT, Assistant, free_port, web_server

pytestmark = [pytest.mark.model, pytest.mark.servers, pytest.mark.browser]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "results" / "screenshots"
# Flags for a closed network: no background connections, no first-run work.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


# A third-party client (scripts/fetch_web_clients.sh puts it there for `make test`).
RASA_WEBCHAT = ROOT / "build" / "web-clients" / "rasa-webchat" / "index.js"
WEBCHAT_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>rasa-webchat</title></head>
<body><div id="webchat"></div><script src="/rasa-webchat.js"></script>
<script>WebChat.default({selector: "#webchat", initPayload: "hi", socketUrl: "%s", socketPath: "/socket.io/",
  title: "Cramp Coach", embedded: true, showFullScreenButton: false, params: {storage: "session"}}, null);</script>
</body></html>"""


class WebchatPage:
    """A page embedding rasa-webchat 1.0.1, served on loopback from its own origin."""

    def __init__(self, rasa_url: str, port: int):
        files = {"/": (WEBCHAT_PAGE % rasa_url).encode(), "/rasa-webchat.js": RASA_WEBCHAT.read_bytes()}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                body = files.get(self.path.split("?")[0])
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/javascript" if self.path.endswith(".js") else "text/html")
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{port}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


@pytest.fixture(scope="module")
def site(trained_model, tmp_path_factory):
    """rasa run + action server allowing the demo page's and the rasa-webchat page's origins."""
    if not RASA_WEBCHAT.exists():
        pytest.fail(f"{RASA_WEBCHAT} is missing: run scripts/fetch_web_clients.sh (make test does)")
    workdir = tmp_path_factory.mktemp("web")
    web_port, webchat_port = free_port(), free_port()
    origins = f"http://127.0.0.1:{web_port},http://127.0.0.1:{webchat_port}"
    assistant = Assistant(trained_model, workdir, env={"CRAMP_COACH_ALLOWED_ORIGINS": origins})
    web = web_server(workdir, assistant.url, port=web_port, name=f"web_{web_port}")
    webchat = WebchatPage(assistant.url, webchat_port)
    yield assistant, web, webchat
    webchat.stop()
    web.stop()
    assistant.stop()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def bot_messages(page):
    return page.locator(".cc-msg--bot")


def wait_for_bot_text(page, text):
    page.locator(".cc-msg--bot", has_text=text).last.wait_for()


def say(page, text):
    page.fill("#cc-input", text)
    page.press("#cc-input", "Enter")


def test_page_greets_then_answers_a_question(site, page):
    web = site[1]
    started = time.monotonic()
    page.goto(web.url)
    bot_messages(page).first.wait_for()
    first_message = time.monotonic() - started
    record_figure("Web widget (headless Chromium)", f"page load to first bot message: {first_message * 1000:.0f} ms")
    assert "Cramp Coach" in bot_messages(page).first.inner_text()
    assert page.locator(".cc-reply", has_text="I have a cramp right now").is_visible()
    assert page.locator(".cc-disclaimer").inner_text().startswith("General information, not a doctor")
    say(page, "why do my legs cramp at night?")
    wait_for_bot_text(page, "no one clear cause")
    assert page.locator(".cc-msg--user").last.inner_text() == "why do my legs cramp at night?"
    assert page.locator(".cc-msg--bot li").count() >= 5  # bullets render as a list


def test_quick_reply_sends_the_payload_and_shows_the_title(site, page):
    page.goto(site[1].url)
    page.locator(".cc-reply", has_text="I have a cramp right now").click()
    wait_for_bot_text(page, "pull your toes up towards your knee")
    assert page.locator(".cc-msg--user").last.inner_text() == "I have a cramp right now"
    assert page.evaluate("document.activeElement.id") == "cc-input"


def test_emergency_answer_is_an_alert_that_cannot_be_missed(site, page):
    page.goto(site[1].url)
    bot_messages(page).first.wait_for()
    say(page, "I can't breathe and my chest hurts")
    alert = page.locator(".cc-msg--emergency.cc-msg--alert")
    alert.wait_for()
    assert alert.get_attribute("role") == "alert"
    assert "999 if you are in the UK, otherwise 112" in alert.inner_text()  # browser locale en-GB
    assert alert.evaluate("e => getComputedStyle(e).borderTopWidth") == "2px"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "desktop-emergency.png"))


def test_history_survives_a_reload_but_not_another_tab(site, page):
    assistant, web, _ = site
    page.goto(web.url)
    bot_messages(page).first.wait_for()
    say(page, "what stretches help cramps?")
    wait_for_bot_text(page, "Did this help?")  # the answer's last part
    before = page.locator(".cc-msg").count()
    session_id = page.evaluate("JSON.parse(sessionStorage.getItem(Object.keys(sessionStorage)[0])).sessionId")
    assert re.fullmatch(r"[0-9a-f]{32}", session_id)
    page.reload()
    page.locator(".cc-msg").nth(before - 1).wait_for()
    assert page.locator(".cc-msg").count() == before
    tracker = assistant.tracker(f"web:{session_id}")
    assert tracker["slots"]["topic"] == "exercises"
    other_tab = page.context.new_page()
    other_tab.goto(web.url)
    bot_messages(other_tab).first.wait_for()
    assert other_tab.locator(".cc-msg--user").count() == 0


def test_forget_me_deletes_the_conversation_on_the_server_and_in_the_tab(site, page):
    assistant, web, _ = site
    page.goto(web.url)
    bot_messages(page).first.wait_for()
    say(page, "my left calf is swollen and hot")
    wait_for_bot_text(page, "blood clot")
    say(page, "please forget me")
    page.locator(".cc-reply", has_text="Yes, delete it").click()
    wait_for_bot_text(page, "I have deleted this conversation")
    assert page.locator(".cc-msg").count() == 1  # only the confirmation is left on screen
    stored = page.evaluate("sessionStorage.getItem(Object.keys(sessionStorage)[0])")
    assert "swollen" not in stored and "forget me" not in stored
    session_id = json.loads(stored)["sessionId"]
    tracker = assistant.tracker(f"web:{session_id}")
    assert tracker["slots"]["triage_level"] is None
    assert not [e for e in tracker["events"] if e["event"] == "user"]


def test_start_over_begins_a_new_conversation(site, page):
    page.goto(site[1].url)
    bot_messages(page).first.wait_for()
    say(page, "what should I eat?")
    wait_for_bot_text(page, "balanced diet")
    page.click(".cc-restart")
    page.wait_for_function("document.querySelectorAll('.cc-msg--user').length === 0")
    bot_messages(page).first.wait_for()
    assert "Cramp Coach" in bot_messages(page).first.inner_text()


def test_markup_is_shown_as_text_and_never_runs(site, page):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(site[1].url)
    bot_messages(page).first.wait_for()
    attack = "<img src=x onerror=alert(1)>"
    say(page, attack)
    page.locator(".cc-msg--user", has_text="onerror").wait_for()
    bot_messages(page).nth(1).wait_for()
    assert page.locator(".cc-msg--user").last.inner_text() == attack
    assert page.locator(".cc-log img").count() == 0
    assert dialogs == []


def test_phone_width_fits_without_sideways_scrolling(site, browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(site[1].url)
    bot_messages(page).first.wait_for()
    say(page, "I have a cramp right now")
    wait_for_bot_text(page, "pull your toes up")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert page.locator(".cc-panel").bounding_box()["width"] <= 360
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "phone-360.png"))
    context.close()


@pytest.mark.parametrize("message, expected", [
    ("what helps during a cramp", "pull your toes up towards your knee"),
    ("my chest hurts and I can't breathe", "Call an ambulance now"),
    ("my left calf is swollen and hot", "blood clot"),
    ("I've had cramps most nights for months and they wake me up", "booking a visit"),
], ids=["question", "emergency", "urgent", "routine"])
def test_rasa_webchat_shows_every_kind_of_answer_as_text(site, page, message, expected):
    """rasa-webchat shows a bot message as text only when `text` is its only key beside metadata."""
    page.goto(site[2].url)
    page.get_by_text("I'm Cramp Coach").first.wait_for()
    page.fill(".rw-new-message", message)
    page.press(".rw-new-message", "Enter")
    page.locator(".rw-response", has_text=expected).first.wait_for()
    if message.startswith("my chest"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "rasa-webchat-emergency.png"))


def test_server_down_shows_a_clear_message(site, page):
    """Runs last in this module: it stops the module's Rasa server."""
    assistant, web, _ = site
    page.goto(web.url)
    bot_messages(page).first.wait_for()
    assert page.locator(".cc-status").is_hidden()
    assistant.stop()
    status = page.locator(".cc-status")
    status.wait_for(state="visible")
    assert "Can't reach Cramp Coach" in status.inner_text() and "112" in status.inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "desktop-offline.png"))
