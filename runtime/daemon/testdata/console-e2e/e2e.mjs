// Drives flowd's console in headless Chromium as an operator would: sign in,
// read events and a trail, replay a dead letter and see it done, and load
// every page. Usage: node e2e.mjs BASE_URL TOKEN DEAD_EVENT_ID DONE_EVENT_ID HELD_EVENT_ID
// (run by TestConsoleInABrowser; CHROMIUM names the browser binary).
import { chromium } from "playwright-core";

const [base, token, deadID, doneID, heldID] = process.argv.slice(2);
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const step = (msg) => console.log("ok  " + msg);

const browser = await chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
const failures = [];
// Before signing in and after signing out, the page's API calls are
// answered 401 on purpose, and the browser logs each one.
let signedIn = false;
try {
  const page = await browser.newPage();
  page.on("pageerror", (e) => failures.push("page error: " + e.message));
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    if (!signedIn && m.text().includes("status of 401")) return;
    failures.push("console error: " + m.text());
  });
  page.setDefaultTimeout(10000);

  await page.goto(base + "/console/");
  await page.waitForSelector("#login-form");
  await page.fill("#token", "not-the-token");
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("#login-error:not([hidden])");
  step("a wrong token is refused: " + (await page.textContent("#login-error")));

  await page.fill("#token", token);
  signedIn = true;
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("main[data-page=events] table");
  step("signed in; events page shows " + (await page.locator("main tbody tr").count()) + " events");

  await page.click(`tr[data-id="${doneID}"]`);
  await page.waitForSelector("#payload");
  const payload = await page.textContent("#payload");
  if (!payload.includes("•••")) throw new Error("the payload is not masked: " + payload.slice(0, 200));
  const trail = await page.locator("#event-detail tbody tr").count();
  if (trail === 0) throw new Error("no step trail for " + doneID);
  step(`event ${doneID}: ${trail} steps in its trail, payload masked`);

  await page.click("nav a[data-page=dlq]");
  await page.waitForSelector(`main[data-page=dlq] tr[data-id="${deadID}"]`);
  const reason = await page.textContent(`tr[data-id="${deadID}"] td.error`);
  step(`dead letter ${deadID} listed with its reason: ${reason.slice(0, 80)}`);
  await page.click(`tr[data-id="${deadID}"] button.replay`);
  await page.waitForSelector("#toast:not([hidden])");
  const toast = await page.textContent("#toast");
  if (!toast.includes("Requeued 1")) throw new Error("replay said: " + toast);
  step("replayed: " + toast);

  // The replay runs on the fixed plan: the event ends done.
  let done = false;
  for (let i = 0; i < 40 && !done; i++) {
    await page.goto(base + "/console/#/events?status=done");
    await page.waitForSelector("main[data-page=events]");
    done = (await page.locator(`tr[data-id="${deadID}"]`).count()) === 1;
    if (!done) await page.waitForTimeout(250);
  }
  if (!done) throw new Error(deadID + " did not end done after its replay");
  step(deadID + " is done after the replay");
  await page.goto(base + "/console/#/dlq");
  await page.waitForSelector("main[data-page=dlq]");
  if (await page.locator(`tr[data-id="${deadID}"]`).count()) throw new Error("the replayed event is still a dead letter");

  await page.click("nav a[data-page=review]");
  await page.waitForSelector(`main[data-page=review] tr[data-id="${heldID}"]`);
  const why = await page.textContent(`tr[data-id="${heldID}"] td.reason`);
  if (!why.includes("robust deviations")) throw new Error("review reason: " + why);
  step(`${heldID} waits for review: ${why}`);
  await page.fill(`tr[data-id="${heldID}"] input.note`, "called the customer: a real order");
  await page.click(`tr[data-id="${heldID}"] button.approve`);
  await page.waitForSelector("#toast:not([hidden])");
  step("approved: " + (await page.textContent("#toast")));
  let ran = false;
  for (let i = 0; i < 40 && !ran; i++) {
    await page.goto(base + "/console/#/events?status=done");
    await page.waitForSelector("main[data-page=events]");
    ran = (await page.locator(`tr[data-id="${heldID}"]`).count()) === 1;
    if (!ran) await page.waitForTimeout(250);
  }
  if (!ran) throw new Error(heldID + " did not run after its approval");
  step(heldID + " ran after its approval");

  await page.click("nav a[data-page=payouts]");
  await page.waitForSelector("main[data-page=payouts] h1");
  step("payouts page: " + (await page.locator("main tbody tr").count()) + " rows");

  await page.click("nav a[data-page=plan]");
  await page.waitForSelector("main[data-page=plan] svg.graph");
  const graphs = await page.locator("svg.graph").count();
  const reload = await page.textContent("#last-reload");
  if (!reload.includes("compiled")) throw new Error("last reload: " + reload);
  step(`plan page: ${graphs} flow graphs; ${reload}`);

  await page.click("nav a[data-page=activity]");
  await page.waitForSelector("#activity-chart");
  const bars = await page.locator("#activity-chart rect.received").count();
  if (bars === 0) throw new Error("no activity bars");
  step(`activity page: ${bars} intervals charted; counts: ${(await page.textContent("#counts")).replace(/(\d)(?=[a-z])/g, "$1, ")}`);

  signedIn = false;
  await page.click("#logout");
  await page.waitForSelector("#login-form");
  const after = await page.evaluate(async () => (await fetch("/admin/plan")).status);
  if (after !== 401) throw new Error("after signing out the API answered " + after);
  step("signed out: the API answers 401");
} catch (e) {
  failures.push(e.message);
} finally {
  await browser.close();
}
if (failures.length) {
  for (const f of failures) console.log("FAIL " + f);
  process.exit(1);
}
