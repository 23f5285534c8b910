#!/usr/bin/env python3
"""The console in a real browser: headless Chromium driven by selenium through the walkthrough:
log in, search for a disconnected thing, see it, open it, show the chart's range, count the
chart's bars, save the query, create a dynamic group from it, see the member; a bad query shows
its caret. A screenshot of each page goes to SHOTS. Prints 'N passed, N failed'.

usage: console_browser.py ENDPOINT ACCESS_KEY SECRET FROM TO EXPECTED_BARS SHOTS
"""
import os
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

endpoint, key, secret, start, end, bars, shots = sys.argv[1:8]
bars = int(bars)
os.makedirs(shots, exist_ok=True)

options = webdriver.ChromeOptions()
for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,1100"):
    options.add_argument(a)
options.binary_location = "/usr/bin/chromium"
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
driver.set_page_load_timeout(30)
wait = WebDriverWait(driver, 15)
passed, failed = 0, 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok  ", name)
    else:
        failed += 1
        print("FAIL", name, detail)


def shot(name):
    driver.save_screenshot(os.path.join(shots, name + ".png"))


def submit(form_id):
    driver.find_element(By.CSS_SELECTOR, "#%s button[type=submit]" % form_id).click()


try:
    # Login: any console page sends the browser to the login form first.
    driver.get(endpoint + "/console/things")
    wait.until(EC.presence_of_element_located((By.NAME, "accessKeyId")))
    check("a page without a session shows the login form", "/console/login" in driver.current_url, driver.current_url)
    shot("01-login")
    driver.find_element(By.NAME, "accessKeyId").send_keys(key)
    driver.find_element(By.NAME, "secretAccessKey").send_keys("not-" + secret)
    driver.find_element(By.ID, "login").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "p.error")))
    check("a wrong secret is refused", "wrong" in driver.find_element(By.CSS_SELECTOR, "p.error").text)
    driver.find_element(By.NAME, "accessKeyId").send_keys(key)
    driver.find_element(By.NAME, "secretAccessKey").send_keys(secret)
    driver.find_element(By.ID, "login").click()
    wait.until(EC.presence_of_element_located((By.NAME, "query")))
    check("login leads back to the page asked for", driver.current_url.endswith("/console/things"), driver.current_url)
    cookies = {c["name"]: c for c in driver.get_cookies()}
    session = cookies.get("fleetdex_console", {})
    check("the session cookie is HttpOnly and SameSite=Strict", session.get("httpOnly") is True and session.get("sameSite") == "Strict", str(session))
    check("no script can read the cookie", driver.execute_script("return document.cookie") == "")

    # Search for a disconnected thing.
    box = driver.find_element(By.NAME, "query")
    box.clear()
    box.send_keys("connectivity.connected:false AND attributes.site:denver")
    submit("search")
    wait.until(EC.presence_of_element_located((By.ID, "results")))
    names = [a.text for a in driver.find_elements(By.CSS_SELECTOR, "#things a.thing-link")]
    check("the disconnected thing is found", names == ["pump-17"], str(names))
    row = driver.find_element(By.CSS_SELECTOR, "#things tbody tr").text
    check("its row shows connectivity and the violation", "disconnected" in row and "Disconnected_5m" in row, row)
    shot("02-search")

    # Open it; show the range the datapoints are in; count the chart's bars.
    driver.find_element(By.LINK_TEXT, "pump-17").click()
    wait.until(EC.presence_of_element_located((By.ID, "range")))
    check("the thing page shows its attributes", "denver" in driver.find_element(By.ID, "attributes").text)
    for field, value in (("from", start), ("to", end)):
        el = driver.find_element(By.CSS_SELECTOR, "#range input[name=%s]" % field)
        el.clear()
        el.send_keys(value)
    submit("range")
    # The page before the submit has a chart too: wait for the one of the range asked for.
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, 'svg[data-metric="aws:disconnect-duration"][data-from="%s"]' % start)))
    rects = driver.find_elements(By.CSS_SELECTOR, 'svg[data-metric="aws:disconnect-duration"] rect.datapoint')
    check("one bar per datapoint (%d)" % bars, len(rects) == bars and bars > 0, "%d bars" % len(rects))
    heights = [float(r.get_attribute("height")) for r in rects]
    check("bars grow while the thing stays away", heights == sorted(heights) and heights[-1] > heights[0], str(heights))
    check("the threshold is drawn", len(driver.find_elements(By.CSS_SELECTOR, 'svg[data-metric="aws:disconnect-duration"] line.threshold')) == 1)
    check("the violation history is on the chart", len(driver.find_elements(By.CSS_SELECTOR, 'svg[data-metric="aws:disconnect-duration"] line.violation-event')) >= 1)
    check("the shadow's markup is text", "<script>alert(1)</script>" in driver.find_element(By.ID, "shadows").text)
    shot("03-thing")
    chart = driver.find_element(By.CSS_SELECTOR, 'svg[data-metric="aws:disconnect-duration"]')
    driver.execute_script("arguments[0].scrollIntoView()", chart)
    chart.find_element(By.XPATH, "..").screenshot(os.path.join(shots, "03b-chart.png"))

    # Back to the search; save the query.
    driver.back()
    driver.back()
    wait.until(EC.presence_of_element_located((By.ID, "save-query")))
    driver.find_element(By.CSS_SELECTOR, "#save-query input[name=name]").send_keys("denver-lost")
    driver.find_element(By.CSS_SELECTOR, "#save-query input[name=description]").send_keys("Denver pumps that are away")
    submit("save-query")
    wait.until(EC.presence_of_element_located((By.ID, "saved-notice")))
    saved = [a.text for a in driver.find_elements(By.CSS_SELECTOR, "#saved-queries a.saved-query")]
    check("the saved query is listed", "denver-lost" in saved, str(saved))
    shot("04-saved")

    # A dynamic group from it, and its member.
    driver.find_element(By.LINK_TEXT, "Dynamic groups").click()
    wait.until(EC.presence_of_element_located((By.ID, "create-group")))
    driver.find_element(By.CSS_SELECTOR, "#create-group input[name=name]").send_keys("Denver_lost")
    Select(driver.find_element(By.CSS_SELECTOR, "#create-group select[name=savedQuery]")).select_by_value("denver-lost")
    submit("create-group")
    wait.until(EC.presence_of_element_located((By.ID, "member-count")))
    members = [a.text for a in driver.find_elements(By.CSS_SELECTOR, "#members a")]
    check("the group has the thing as its member", members == ["pump-17"], str(members))
    check("the join is in the history", "pump-17" in driver.find_element(By.ID, "group-history").text)
    shot("05-group")

    # A bad query shows its caret.
    driver.find_element(By.LINK_TEXT, "Things").click()
    box = wait.until(EC.presence_of_element_located((By.NAME, "query")))
    box.send_keys("attributes.site:denver AND AND")
    submit("search")
    err = wait.until(EC.presence_of_element_located((By.ID, "query-error"))).text
    check("a bad query shows the caret under the bad part", "^" in err and "attributes.site:denver AND AND" in err, err)
    shot("06-query-error")

    # The other pages render.
    for link, marker, name in (("Security profiles", "profiles", "07-profiles"), ("Alerts", "queues", "09-alerts"), ("Overview", "disconnect-histogram", "10-overview")):
        driver.find_element(By.LINK_TEXT, link).click()
        wait.until(EC.presence_of_element_located((By.ID, marker)))
        check("the %s page renders" % link, True)
        shot(name)
        if link == "Security profiles":
            driver.find_element(By.CSS_SELECTOR, "a.profile-link").click()
            wait.until(EC.presence_of_element_located((By.ID, "violations")))
            check("the profile shows its violation", "pump-17" in driver.find_element(By.ID, "violations").text)
            driver.find_element(By.XPATH, "//button[text()='Mark as false positive']").click()
            wait.until(EC.presence_of_element_located((By.ID, "marked-notice")))
            state = driver.find_element(By.CSS_SELECTOR, "#violations td.verification").text
            check("marking the violation a false positive", state == "FALSE_POSITIVE", state)
            shot("08-profile")
    # The one error a page should log is the wrong secret's 401 above.
    problems = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"
                and not ("/console/login" in e.get("message", "") and "401" in e.get("message", ""))]
    check("no script, CSP or load error in the browser", not problems, str(problems))
except Exception as e:  # a step that could not run
    failed += 1
    print("FAIL", type(e).__name__, e)
    shot("99-failure")
finally:
    driver.quit()

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
