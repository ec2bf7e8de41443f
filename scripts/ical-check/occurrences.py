"""Reads an iCalendar feed on stdin with Python's `icalendar` and `recurring-ical-events` (an
implementation independent of ours) and prints, as JSON, every occurrence between the two
RFC 3339 instants given as arguments: its UID, title, start and end (dates for all-day events).
A feed these libraries cannot read fails here."""

import datetime
import json
import sys

import icalendar
import recurring_ical_events


def text(value):
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return value.isoformat()


def main():
    start, end = (datetime.datetime.fromisoformat(arg) for arg in sys.argv[1:3])
    calendar = icalendar.Calendar.from_ical(sys.stdin.read())
    timezones = sorted(str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE"))
    found = []
    for event in recurring_ical_events.of(calendar).between(start, end):
        found.append(
            {
                "uid": str(event["UID"]),
                "title": str(event["SUMMARY"]),
                "start": text(event.decoded("DTSTART")),
                "end": text(event.decoded("DTEND")),
                "alarms": [
                    int(-alarm.decoded("TRIGGER").total_seconds() // 60)
                    for alarm in event.walk("VALARM")
                ],
            }
        )
    found.sort(key=lambda item: (item["start"], item["uid"]))
    json.dump({"timezones": timezones, "occurrences": found}, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
