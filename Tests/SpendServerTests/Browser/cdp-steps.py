#!/usr/bin/env python3
"""Drives headless Chromium over the DevTools protocol (through --remote-debugging-pipe, so only
the standard library is needed) and prints what a reader would see, one JSON line per `dump`.

Usage: cdp-steps.py CHROMIUM [--no-scripts] STEP...
  load URL       open URL and wait for its load event
  wait SECONDS   let the page run (reloads, the live script) for this long, in real time
  click CSS      click the element the selector finds, as a mouse would, and wait for the load
  submit CSS Q   fill the form CSS finds with the fields of the query string Q (a select's
                 option by value), press its submit button and wait for the page that follows
  dump           print {"url", "html", "loads", "console"}: the current address, the DOM as
                 serialised by the browser, the page loads since the last dump (a reload counts)
                 and the console and log errors since the last dump

With --no-scripts the page runs with JavaScript disabled (Emulation.setScriptExecutionDisabled),
as for a reader who turned it off; DOM reads and mouse input do not need scripts. Used by
BrowserTests; exits non-zero with a message on any protocol error or a step that times out.
"""

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse


class ProtocolError(Exception):
    pass


class Browser:
    def __init__(self, chromium, profile):
        to_browser_read, self.to_browser = os.pipe()
        self.from_browser, from_browser_write = os.pipe()

        def wire():
            # Chromium reads commands from fd 3 and writes to fd 4. Copies first, so that
            # placing one cannot overwrite the other; dup2 makes them survive exec, and
            # pass_fds keeps them open (descriptors are closed after this runs). A session of
            # its own lets close() stop the browser's helper processes with it.
            os.setsid()
            read, write = os.dup(to_browser_read), os.dup(from_browser_write)
            os.dup2(read, 3)
            os.dup2(write, 4)

        self.process = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--remote-debugging-pipe",
             "--user-data-dir=" + profile, "--window-size=1280,1600", "about:blank"],
            pass_fds=(3, 4), preexec_fn=wire,
            stdout=subprocess.DEVNULL, stderr=(None if os.environ.get("CDP_DEBUG") else subprocess.DEVNULL))
        os.close(to_browser_read)
        os.close(from_browser_write)
        self.buffer = b""
        self.events = []
        self.next_id = 0
        self.session = None

    def close(self):
        try:
            self.command("Browser.close", session=False)
        except Exception:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()

    def read_message(self, deadline):
        while b"\0" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([self.from_browser], [], [], remaining)
            if not ready:
                return None
            chunk = os.read(self.from_browser, 1 << 16)
            if not chunk:
                raise SystemExit("chromium closed the pipe")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def command(self, method, params=None, session=True, timeout=30):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self.read_message(deadline)
            if reply is None:
                raise ProtocolError(f"{method}: no answer within {timeout} s")
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise ProtocolError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def pump(self, seconds):
        deadline = time.monotonic() + seconds
        while True:
            event = self.read_message(deadline)
            if event is None:
                return
            if "method" in event:
                self.events.append(event)

    def wait_for(self, method, after, timeout=30, url=None):
        """Waits for an event `method` at index `after` or later of the event list; with `url`,
        for the main frame's navigation to it and then its load. Returns the event's index."""
        deadline = time.monotonic() + timeout
        while True:
            start = after
            if url is not None:
                navigated = [i for i, e in enumerate(self.events) if i >= after and e["method"] == "Page.frameNavigated"
                             and "parentId" not in e["params"]["frame"] and e["params"]["frame"]["url"] == url]
                start = navigated[0] + 1 if navigated else None
            if start is not None:
                for index in range(start, len(self.events)):
                    if self.events[index]["method"] == method:
                        return index
            event = self.read_message(deadline)
            if event is None:
                raise ProtocolError(f"no {method}{' of ' + url if url else ''} within {timeout} s")
            if "method" in event:
                self.events.append(event)

    def click(self, selector):
        """Clicks the element as a mouse would and waits for the page its href leads to. A
        meta refresh can replace the document between two commands: then it tries again."""
        for attempt in range(3):
            try:
                history = self.command("Page.getNavigationHistory")
                here = history["entries"][history["currentIndex"]]["url"]
                root = self.command("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
                node = self.command("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
                if node == 0:
                    raise ProtocolError(f"click: nothing matches {selector}")
                attributes = self.command("DOM.getAttributes", {"nodeId": node})["attributes"]
                href = dict(zip(attributes[0::2], attributes[1::2])).get("href")
                if href is None:
                    raise SystemExit(f"click: {selector} is not a link")
                self.command("DOM.scrollIntoViewIfNeeded", {"nodeId": node})
                quads = self.command("DOM.getContentQuads", {"nodeId": node})["quads"]
                if not quads:
                    raise ProtocolError(f"click: {selector} is not displayed")
                x, y = sum(quads[0][0::2]) / 4, sum(quads[0][1::2]) / 4
                mark = len(self.events)
                for kind in ("mousePressed", "mouseReleased"):
                    self.command("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1})
                self.wait_for("Page.loadEventFired", mark, url=urllib.parse.urljoin(here, href))
                return
            except ProtocolError as error:
                if attempt == 2:
                    raise SystemExit(f"click {selector}: {error}")


    def submit(self, form, fields):
        """Fills a form as a person would leave it (attributes: the values it submits), opens
        the `details` around it, presses its submit button with the mouse and waits for the
        page the answer leads to."""
        root = self.command("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        node = self.command("DOM.querySelector", {"nodeId": root, "selector": form})["nodeId"]
        if node == 0:
            raise SystemExit(f"submit: nothing matches {form}")
        for details in self.command("DOM.querySelectorAll", {"nodeId": root, "selector": "details"})["nodeIds"]:
            self.command("DOM.setAttributeValue", {"nodeId": details, "name": "open", "value": ""})
        for name, value in urllib.parse.parse_qsl(fields, keep_blank_values=True):
            field = self.command("DOM.querySelector", {"nodeId": node, "selector": f"[name='{name}']"})["nodeId"]
            if field == 0:
                raise SystemExit(f"submit: {form} has no field {name}")
            option = self.command("DOM.querySelector", {"nodeId": field, "selector": f"option[value='{value}']"})["nodeId"]
            if option:
                self.command("DOM.setAttributeValue", {"nodeId": option, "name": "selected", "value": "selected"})
            else:
                self.command("DOM.setAttributeValue", {"nodeId": field, "name": "value", "value": value})
        button = self.command("DOM.querySelector", {"nodeId": node, "selector": "button[type='submit']"})["nodeId"]
        self.command("DOM.scrollIntoViewIfNeeded", {"nodeId": button})
        quads = self.command("DOM.getContentQuads", {"nodeId": button})["quads"]
        if not quads:
            raise SystemExit(f"submit: the button of {form} is not displayed")
        x, y = sum(quads[0][0::2]) / 4, sum(quads[0][1::2]) / 4
        mark = len(self.events)
        for kind in ("mousePressed", "mouseReleased"):
            self.command("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1})
        self.wait_for("Page.loadEventFired", mark)


def main():
    arguments = sys.argv[1:]
    if not arguments:
        raise SystemExit(__doc__)
    chromium = arguments.pop(0)
    scripts = True
    if arguments and arguments[0] == "--no-scripts":
        scripts = False
        arguments.pop(0)
    with tempfile.TemporaryDirectory(prefix="spendboard-cdp-") as profile:
        browser = Browser(chromium, profile)
        try:
            target = browser.command("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
            browser.session = browser.command(
                "Target.attachToTarget", {"targetId": target, "flatten": True}, session=False)["sessionId"]
            for domain in ("Page", "Runtime", "Log", "DOM"):
                browser.command(domain + ".enable")
            if not scripts:
                browser.command("Emulation.setScriptExecutionDisabled", {"value": True})
            reported = 0

            def take():
                if not arguments:
                    raise SystemExit(f"{step}: its argument is missing")
                return arguments.pop(0)

            while arguments:
                step = arguments.pop(0)
                if step == "load":
                    mark = len(browser.events)
                    browser.command("Page.navigate", {"url": take()})
                    browser.wait_for("Page.loadEventFired", mark)
                elif step == "wait":
                    browser.pump(float(take()))
                elif step == "click":
                    browser.click(take())
                elif step == "submit":
                    form = take()
                    browser.submit(form, take())
                elif step == "dump":
                    history = browser.command("Page.getNavigationHistory")
                    url = history["entries"][history["currentIndex"]]["url"]
                    root = browser.command("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
                    html = browser.command("DOM.getOuterHTML", {"nodeId": root})["outerHTML"]
                    recent = browser.events[reported:]
                    reported = len(browser.events)
                    console = []
                    for event in recent:
                        if event["method"] == "Runtime.consoleAPICalled":
                            console.append(" ".join(str(a.get("value", a.get("description", ""))) for a in event["params"]["args"]))
                        elif event["method"] == "Runtime.exceptionThrown":
                            console.append(event["params"]["exceptionDetails"].get("text", "exception"))
                        elif event["method"] == "Log.entryAdded" and event["params"]["entry"]["level"] in ("error", "warning"):
                            entry = event["params"]["entry"]
                            console.append(entry["text"] + (" " + entry["url"] if entry.get("url") else ""))
                    loads = sum(1 for e in recent if e["method"] == "Page.loadEventFired")
                    print(json.dumps({"url": url, "html": html, "loads": loads, "console": console}), flush=True)
                else:
                    raise SystemExit(f"unknown step {step}")
        except ProtocolError as error:
            raise SystemExit(str(error))
        finally:
            browser.close()


if __name__ == "__main__":
    main()
