// Reads an .ics on stdin and prints, as JSON, every event instance that ical.js (Mozilla's
// calendar engine, used by Thunderbird) finds between argv[2] and argv[3] (ISO UTC):
// {"<uid>": [[startUTCms, endUTCms, "CONFIRMED"|"CANCELLED"], ...]}.
// It uses only the VTIMEZONEs in the file (ical.js ships no zone database), as an app that
// trusts the feed does. Shares no code with the Python writer.
import ICAL from "ical.js";
import { readFileSync } from "node:fs";

const text = readFileSync(0, "utf8");
const from = new Date(process.argv[2]).getTime();
const until = new Date(process.argv[3]).getTime();
const root = new ICAL.Component(ICAL.parse(text));
for (const vtz of root.getAllSubcomponents("vtimezone")) {
  ICAL.TimezoneService.register(vtz);
}
const masters = new Map();
const exceptions = [];
for (const vevent of root.getAllSubcomponents("vevent")) {
  // Without options, ical.js relates every RECURRENCE-ID event in the file to each master,
  // whatever its UID; calendar apps group by UID first (Thunderbird's parser does), so we
  // relate exceptions ourselves, strictly by UID.
  const event = new ICAL.Event(vevent, { strictExceptions: true, exceptions: [] });
  if (event.isRecurrenceException()) exceptions.push(event);
  else masters.set(event.uid, event);
}
for (const ex of exceptions) masters.get(ex.uid)?.relateException(ex);

const out = {};
for (const [uid, event] of masters) {
  const instances = [];
  const status = (e) => (e.component.getFirstPropertyValue("status") || "CONFIRMED").toUpperCase();
  if (!event.isRecurring()) {
    const s = event.startDate.toJSDate().getTime();
    if (s >= from && s < until) instances.push([s, event.endDate.toJSDate().getTime(), status(event)]);
  } else {
    const it = event.iterator();
    let next;
    let guard = 0;
    while ((next = it.next()) && guard++ < 5000) {
      const d = event.getOccurrenceDetails(next);
      const s = d.startDate.toJSDate().getTime();
      const nominal = d.recurrenceId.toJSDate().getTime();
      if (nominal >= until + 40 * 86400000 && s >= until) break;
      if (s >= from && s < until) {
        instances.push([s, d.endDate.toJSDate().getTime(), status(d.item)]);
      }
    }
  }
  out[uid] = instances;
}
process.stdout.write(JSON.stringify(out));
