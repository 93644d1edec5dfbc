"""Landing data for the medallion example: JSON-lines order events and a customers change feed.

    python generate.py                  # the first landing files (10 000 events)
    python generate.py --next           # one more landing file: 5 % more events, customer changes
    python generate.py --events 2000000 --files 20

Seeded and deterministic: every value is a function of the seed and the order id (or the customer
id and the file number), so the same command writes the same bytes, and a re-sent event is an exact
copy of the original. Written as text by plain Python, one file at a time (bounded memory).

What the data holds, on purpose:
- about 2 % of the events are re-sent copies of an earlier event (in the same file or an earlier
  one): `silver_orders` keeps each `order_id` once, across runs;
- about 1 % have no `customer_id` and about 1 % an `amount` of zero or less: dropped by the
  expectations;
- the customers feed inserts every customer in the first file; each later file updates the email
  or country of about 5 % of them (history rows in SCD type 2), deletes about 0.5 % and adds new
  customers; `sequence_num` orders the changes.
"""

from __future__ import annotations

import argparse
import datetime
from collections.abc import Iterator
from pathlib import Path

SEED = 42
DAYS = 90
DATES = tuple((datetime.date(2026, 1, 1) + datetime.timedelta(days=d)).isoformat()
              for d in range(DAYS))
CHANNELS = ("web", "app", "store")
COUNTRIES = ("NL", "DE", "FR", "UK", "US", "ES")
MASK = (1 << 64) - 1


def mix(*values: int) -> int:
    """A 64-bit hash of integers (splitmix64 steps): cheap, stable across Python versions."""
    h = 0x9E3779B97F4A7C15
    for value in values:
        h = (h ^ (value & MASK)) * 0xBF58476D1CE4E5B9 & MASK
        h = (h ^ (h >> 31)) * 0x94D049BB133111EB & MASK
        h ^= h >> 29
    return h


def customers_for(events: int) -> int:
    """How many customers the first file inserts: one per 20 events, at least 50."""
    return max(50, events // 20)


def order_event(order_id: int, customers: int, seed: int) -> str:
    """One order event as a JSON line, a pure function of its id."""
    h = mix(seed, order_id)
    customer = "null" if h % 100 == 0 else str(1 + (h >> 8) % customers)
    cents = (h >> 24) % 50_000 + 1
    if (h >> 40) % 100 == 0:
        cents = -cents if cents % 2 else 0
    amount = f"{cents // 100}.{cents % 100:02d}" if cents >= 0 else f"-{-cents // 100}.{-cents % 100:02d}"
    seconds = (h >> 12) % (DAYS * 86400)
    day, rest = divmod(seconds, 86400)
    timestamp = f"{DATES[day]} {rest // 3600:02d}:{rest // 60 % 60:02d}:{rest % 60:02d}"
    channel = CHANNELS[(h >> 50) % 3]
    return (f'{{"order_id": {order_id}, "customer_id": {customer}, "amount": {amount}, '
            f'"currency": "EUR", "order_timestamp": "{timestamp}", "channel": "{channel}"}}\n')


def order_lines(first_id: int, count: int, seed: int, customers: int) -> Iterator[str]:
    """Events for ids [first_id, first_id + count), with ~2 % re-sent copies of earlier events
    (ids drawn from everything sent so far, so some copies cross files)."""
    for order_id in range(first_id, first_id + count):
        yield order_event(order_id, customers, seed)
        h = mix(seed, order_id, 1)
        if h % 50 == 0:
            yield order_event(1 + (h >> 8) % order_id, customers, seed)


def customer_line(customer_id: int, version: int, operation: str, sequence: int, seed: int) -> str:
    h = mix(seed, customer_id, version)
    country = COUNTRIES[h % len(COUNTRIES)]
    return (f'{{"customer_id": {customer_id}, "name": "Customer {customer_id}", '
            f'"email": "c{customer_id}.v{version}@example.com", "country": "{country}", '
            f'"operation": "{operation}", "sequence_num": {sequence}}}\n')


def customer_lines(file_number: int, customers: int, new_customers: int, seed: int) -> Iterator[str]:
    """File 0 inserts customers 1..customers; file k > 0 updates ~5 %, deletes ~0.5 % and inserts
    `new_customers` more (ids after every earlier file's). Sequence numbers grow with the file."""
    base = file_number * 10_000_000
    if file_number == 0:
        for customer_id in range(1, customers + 1):
            yield customer_line(customer_id, 0, "UPSERT", base + customer_id, seed)
        return
    known = customers + (file_number - 1) * new_customers
    for customer_id in range(1, known + 1):
        h = mix(seed, customer_id, file_number, 2) % 1000
        if h < 5:
            yield customer_line(customer_id, file_number, "DELETE", base + customer_id, seed)
        elif h < 55:
            yield customer_line(customer_id, file_number, "UPSERT", base + customer_id, seed)
    for customer_id in range(known + 1, known + new_customers + 1):
        yield customer_line(customer_id, file_number, "UPSERT", base + customer_id, seed)


def write_file(path: Path, lines: Iterator[str]) -> None:
    """Write through a temporary name, so a reader listing the folder never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    with partial.open("w", buffering=1 << 20) as out:
        out.writelines(lines)
    partial.rename(path)


def generate(landing: Path, *, events: int = 10_000, files: int = 2, seed: int = SEED,
             more: bool = False) -> list[Path]:
    """The initial landing files (`events` over `files` order files, one customers file), or with
    `more` one next order file of 5 % of `events` and one customers change file. Returns the files
    written."""
    orders, customers_folder = landing / "orders", landing / "customers"
    customers = customers_for(events)
    written: list[Path] = []
    if not more:
        if orders.exists() and any(orders.iterdir()):
            raise SystemExit(f"{orders} already has files: use --next to add more")
        per_file = -(-events // files)
        for number in range(files):
            first = 1 + number * per_file
            count = min(per_file, events - number * per_file)
            written.append(orders / f"orders-{number:05d}.json")
            write_file(written[-1], order_lines(first, count, seed, customers))
        written.append(customers_folder / "customers-00000.json")
        write_file(written[-1], customer_lines(0, customers, 0, seed))
        return written
    done = sorted(orders.glob("orders-*.json"))
    if not done:
        raise SystemExit(f"{orders} has no files yet: run without --next first")
    number = len(done)
    if number < files:
        raise SystemExit(f"{orders} has {number} files, fewer than --files {files}")
    more_events = max(1, events // 20)
    first = 1 + events + (number - files) * more_events
    written.append(orders / f"orders-{number:05d}.json")
    write_file(written[-1], order_lines(first, more_events, seed, customers))
    change = number - files + 1
    written.append(customers_folder / f"customers-{change:05d}.json")
    write_file(written[-1], customer_lines(change, customers, max(1, customers // 20), seed))
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--landing", type=Path, default=Path("data/landing"),
                        help="landing folder (default: data/landing)")
    parser.add_argument("--events", type=int, default=10_000, help="events in the initial files")
    parser.add_argument("--files", type=int, default=2, help="initial order files")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--next", action="store_true",
                        help="add one more landing file (5 %% of --events) and customer changes")
    args = parser.parse_args()
    for path in generate(args.landing, events=args.events, files=args.files, seed=args.seed,
                         more=args.next):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
