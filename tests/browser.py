"""A real browser on the real Label Studio: Debian's chromium and chromium-driver, driven
by selenium. Each person gets their own browser profile (a new empty user-data-dir), logs
in through the login page and works with the mouse as a person would."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--window-size=1400,1000",
)  # fmt: skip
WAIT = 90  # seconds: two cores shared with the server, the page's first load is slow


class Person:
    """One browser, one person, screenshots numbered in the order they were taken."""

    def __init__(self, name: str, url: str, profile: Path, shots: Path) -> None:
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in FLAGS:
            options.add_argument(flag)
        profile.mkdir(parents=True, exist_ok=True)
        options.add_argument(f"--user-data-dir={profile}")
        self.name, self.url, self.shots = name, url, shots
        shots.mkdir(parents=True, exist_ok=True)
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.wait = WebDriverWait(self.driver, WAIT)

    def shot(self, step: str) -> Path:
        path = self.shots / f"{len(list(self.shots.glob('*.png'))):02d}-{self.name}-{step}.png"
        self.driver.save_screenshot(str(path))
        return path

    def quit(self) -> None:
        with contextlib.suppress(WebDriverException):
            self.driver.quit()

    # ------------------------------------------------------------ pages

    def log_in(self, email: str, password: str) -> None:
        self.driver.get(f"{self.url}/user/login/")
        self.wait.until(ec.presence_of_element_located((By.NAME, "email"))).send_keys(email)
        self.driver.find_element(By.NAME, "password").send_keys(password)
        self.shot("login-page")
        self.driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        self.wait.until(lambda d: "/user/login" not in d.current_url)

    def button(self, text: str) -> WebElement:
        xpath = f"//button[normalize-space(.)={_literal(text)}]"
        return self.wait.until(ec.element_to_be_clickable((By.XPATH, xpath)))

    def open_queue(self, project_id: int) -> None:
        """The project page, then "Label All Tasks": the annotator's queue."""
        self.driver.get(f"{self.url}/projects/{project_id}/")
        self.button("Label All Tasks").click()
        self.wait_for_text()

    def wait_for_text(self) -> None:
        line = ".lsf-htx-richtext .lsf-richtext__line"
        self.wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, line)))

    def close_instructions(self) -> None:
        close = self.wait.until(
            ec.element_to_be_clickable((By.CSS_SELECTOR, "button[aria-label='Close modal']"))
        )
        close.click()
        self.wait.until(ec.invisibility_of_element_located((By.CSS_SELECTOR, ".lsf-modal-ls")))

    # ------------------------------------------------------------ labelling

    def pick_label(self, label: str) -> None:
        xpath = f"//*[contains(@class,'lsf-label__text') and normalize-space(.)={_literal(label)}]"
        self.wait.until(ec.element_to_be_clickable((By.XPATH, xpath))).click()

    def drag_over(self, surface: str, nth: int = 0) -> None:
        """Select `surface` (its nth occurrence in the article) by dragging the mouse over it."""
        box = self.driver.execute_script(_RANGE_RECT, surface, nth)
        assert box is not None, f"{surface!r} not found in the text"
        y = box["top"] + box["height"] / 2
        actions = ActionBuilder(self.driver)
        actions.pointer_action.move_to_location(int(box["left"]) + 1, int(y))
        actions.pointer_action.pointer_down()
        actions.pointer_action.move_to_location(int(box["right"]) - 1, int(y))
        actions.pointer_action.pointer_up()
        actions.perform()
        time.sleep(0.5)  # the region is made on mouse-up

    def click_region(self, surface: str) -> None:
        xpath = (
            f"//span[contains(@class,'htx-highlight') and normalize-space(.)={_literal(surface)}]"
        )
        region = self.wait.until(ec.element_to_be_clickable((By.XPATH, xpath)))
        ActionChains(self.driver).move_to_element(region).click().perform()

    def choose(self, box_heading: str, value: str) -> None:
        """Tick `value` in the stance box whose heading is `box_heading`."""
        xpath = (
            f"//*[normalize-space(text())={_literal(box_heading)}]"
            f"/ancestor::div[.//input[@name={_literal(value)}]][1]"
            f"//input[@name={_literal(value)}]/ancestor::label[1]"
        )
        label = self.wait.until(ec.element_to_be_clickable((By.XPATH, xpath)))
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", label)
        label.click()

    def submit(self) -> None:
        self.button("Submit").click()


def _literal(text: str) -> str:
    """An XPath string literal for any text."""
    if "'" not in text:
        return f"'{text}'"
    return "concat(" + ', "\'", '.join(f"'{part}'" for part in text.split("'")) + ")"


# The viewport box of the nth occurrence of a string in the labeling text (one text node).
_RANGE_RECT = """
const [surface, nth] = arguments;
const root = document.querySelector('.lsf-htx-richtext');
const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
let seen = 0;
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  let at = node.data.indexOf(surface);
  while (at >= 0) {
    if (seen === nth) {
      node.parentElement.scrollIntoView({block: 'center'});
      const range = document.createRange();
      range.setStart(node, at);
      range.setEnd(node, at + surface.length);
      const r = range.getBoundingClientRect();
      return {left: r.left, right: r.right, top: r.top, height: r.height};
    }
    seen += 1;
    at = node.data.indexOf(surface, at + 1);
  }
}
return null;
"""
