"""Ingestion into MariaDB: the store's bulk path against a row-by-row insert, same rows, same run.

    uv run python bench/ingest_bench.py [--rows 100000] [--server mysql+pymysql://root@127.0.0.1:3306]

Creates a database of its own, drops it at the end. Data generation is not timed.
"""

from __future__ import annotations

import argparse
import time
from datetime import date, datetime, timedelta

import pandas as pd
from _common import MARIADB, fresh_database
from sqlalchemy import delete, insert
from sqlalchemy.dialects.mysql import insert as mysql_insert

from advanced_mlops.data.cleaning import clean_batch
from advanced_mlops.data.generator import PERIOD_DAYS, Generator
from advanced_mlops.data.labels import arriving_labels
from advanced_mlops.store import repository
from advanced_mlops.store.bulk import to_records
from advanced_mlops.store.engine import connect, get_engine
from advanced_mlops.store.tables import customers, features, labels

START = date(2025, 1, 1)


Days = list[tuple[date, pd.DataFrame, pd.DataFrame]]


def make_days(rows: int) -> Days:
    """About `rows` cleaned feature rows spread over 30 days, with their labels."""
    generator = Generator(customers=rows, dirt_rate=0.05)
    out = []
    for i in range(PERIOD_DAYS):
        day = START + timedelta(days=i)
        raw = generator.batch(day)
        out.append((day, clean_batch(raw), arriving_labels(raw, day)))
    return out


def bulk(url: str, days: Days) -> float:
    """The real ingestion write path: one transaction per day, bulk loads and one upsert."""
    start = time.perf_counter()
    for day, feats, day_labels in days:
        with connect(url, write=True) as conn:
            repository.replace_day(conn, day, feats, day_labels, "bench", "stable")
    return time.perf_counter() - start


def row_by_row(url: str, days: Days) -> float:
    """The same day content, one statement per row: each feature row, each label, each
    customer upsert (one transaction per day, as above)."""
    engine = get_engine(url)
    upsert = mysql_insert(customers)
    upsert = upsert.on_duplicate_key_update(
        name=upsert.inserted.name, ssn=upsert.inserted.ssn, last_seen=upsert.inserted.last_seen
    )
    start = time.perf_counter()
    for day, feats, day_labels in days:
        with engine.begin() as conn:
            conn.execute(delete(features).where(features.c.date == day))
            conn.execute(delete(labels).where(labels.c.available_at == day))
            for row in to_records(feats, repository.FEATURE_ROW):
                conn.execute(insert(features).values(**row, ingested_at=datetime.now()))
            for row in to_records(day_labels, repository.LABEL_ROW):
                conn.execute(insert(labels).values(**row))
            for row in to_records(feats, ["customer_id", "name", "ssn"]):
                conn.execute(upsert.values(**row, first_seen=day, last_seen=day))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--server", default=MARIADB)
    args = parser.parse_args()

    days = make_days(args.rows)
    total = sum(len(f) for _, f, _ in days)
    with fresh_database(args.server) as url:
        bulk_s = bulk(url, days)
    with fresh_database(args.server) as url:
        naive_s = row_by_row(url, days)
    print(f"feature rows: {total} over {len(days)} days (MariaDB, {args.server.split('@')[-1]})")
    print("each day writes its features, the labels arriving that day and the customers seen")
    print(f"mlops ingest write path:     {bulk_s:6.2f} s = {total / bulk_s:8.0f} rows/s")
    print(f"row-by-row (one INSERT each): {naive_s:6.2f} s = {total / naive_s:8.0f} rows/s")
    print(f"speed-up: {naive_s / bulk_s:.1f}x rows/s (target >= 20x)")


if __name__ == "__main__":
    main()
