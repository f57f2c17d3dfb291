#!/usr/bin/env python3
"""Uses the review page as a person would, in headless Chromium driven by Selenium.

Usage:
  review_page.py URL SEQUENCE VERDICT NOTE SCREENSHOT.png

Opens URL (a flight's page of `snuffel review`), waits for its script, types NOTE into the
row of detection SEQUENCE and clicks the VERDICT button, waits until the row shows the
stored mark; clicks detection 0 on the map and reads which list row and plot span are
selected and where the plot's cursor is; filters the list by the class `solvent`, by review and by confidence (0.7); saves a
screenshot; clicks detection 5's span on the plot and reads what the map and list select;
ticks the online map (when the app has a tile URL) and lists the tiles laid. Prints JSON of what it saw on stdout.

Needs Debian's python3-selenium, chromium and chromium-driver (run with /usr/bin/python3).
Exit status 3: a peer is not installed.
"""
import json
import sys

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError:
    print("python3-selenium is not installed", file=sys.stderr)
    sys.exit(3)

url, sequence, verdict, note, screenshot = sys.argv[1:6]
options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1100"]:
    options.add_argument(argument)
try:
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
except Exception as error:  # no driver or browser
    print(f"cannot start chromium through chromedriver: {error}", file=sys.stderr)
    sys.exit(3)
seen = {}
try:
    driver.get(url)
    wait = WebDriverWait(driver, 20)
    wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "yes")
    row_selector = f'tr.detection-row[data-seq="{sequence}"]'
    row = driver.find_element(By.CSS_SELECTOR, row_selector)
    row.find_element(By.CSS_SELECTOR, "input.note-input").send_keys(note)
    row.find_element(By.CSS_SELECTOR, f'button[data-verdict="{verdict}"]').click()
    # The page redraws the list when the mark is stored: read it in one script call each
    # time, never through an element found before the redraw.
    def text(selector):
        return driver.execute_script("const e = document.querySelector(arguments[0]); return e ? e.textContent : '';", selector)
    wait.until(lambda d: text(row_selector + " .verdict").startswith(verdict))
    seen["mark"] = text(row_selector + " .mark")
    wait.until(lambda d: d.execute_script("return document.querySelectorAll('#audit tbody tr').length") > 0)
    seen["audit"] = driver.execute_script("return [...document.querySelectorAll('#audit tbody tr')].map(r => r.textContent)")

    # Map → list and plot.
    def cursor():
        return driver.execute_script("return document.querySelector('#plot line.cursor').getAttribute('x1')")
    cursor_before = cursor()
    driver.find_element(By.CSS_SELECTOR, 'g.detection[data-seq="0"] circle.dot').click()
    seen["selected_rows"] = [r.get_attribute("data-seq") for r in driver.find_elements(By.CSS_SELECTOR, "tr.selected")]
    seen["selected_spans"] = [r.get_attribute("data-seq") for r in driver.find_elements(By.CSS_SELECTOR, "rect.span.selected")]
    seen["cursor_moved"] = cursor() != cursor_before

    # Plot → map and list.
    def view_box():
        return driver.execute_script("return document.getElementById('map').getAttribute('viewBox')")
    view_before = view_box()
    driver.find_element(By.CSS_SELECTOR, 'rect.span[data-seq="5"]').click()
    seen["after_span_click_rows"] = [r.get_attribute("data-seq") for r in driver.find_elements(By.CSS_SELECTOR, "tr.selected")]
    seen["map_moved"] = view_box() != view_before
    seen["map_dot_selected"] = [g.get_attribute("data-seq") for g in driver.find_elements(By.CSS_SELECTOR, "g.detection.selected")]

    # Online tiles, when the app was given a tile URL.
    boxes = driver.find_elements(By.ID, "layer-tiles")
    if boxes:
        boxes[0].click()
        seen["tiles"] = driver.execute_script("return [...document.querySelectorAll('#map g.tiles image')].map(i => i.getAttribute('href'))")

    # Filters.
    Select(driver.find_element(By.ID, "filter-class")).select_by_value("solvent")
    rows = driver.find_elements(By.CSS_SELECTOR, "tr.detection-row")
    seen["rows_shown_for_solvent"] = sum(1 for r in rows if r.is_displayed())
    seen["map_dots_hidden_for_solvent"] = len(driver.find_elements(By.CSS_SELECTOR, "g.detection.filtered"))
    def shown():
        return [r.get_attribute("data-seq") for r in driver.find_elements(By.CSS_SELECTOR, "tr.detection-row") if r.is_displayed()]
    Select(driver.find_element(By.ID, "filter-class")).select_by_value("")
    Select(driver.find_element(By.ID, "filter-reviewed")).select_by_value("yes")
    seen["rows_shown_reviewed"] = shown()
    Select(driver.find_element(By.ID, "filter-reviewed")).select_by_value("no")
    seen["rows_shown_not_reviewed"] = shown()
    Select(driver.find_element(By.ID, "filter-reviewed")).select_by_value("")
    least = driver.find_element(By.ID, "filter-confidence")
    least.clear()
    least.send_keys("0.7")
    seen["rows_shown_confidence_0.7"] = shown()
    driver.save_screenshot(screenshot)
finally:
    driver.quit()
print(json.dumps(seen))
