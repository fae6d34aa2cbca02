#!/usr/bin/env python3
"""What the demo's nightly run wrote, as one hash per file.

    scripts/fingerprint.py DATA_DIR > before.txt

Every Parquet file of the warehouse (the `_snapshots` cache aside: its names
carry a fingerprint of the parts) is hashed byte for byte, except a file
holding the time a file was received (`received_at` of `submissions`),
whose other columns are hashed value by value. Every .eml in the outbox is
hashed part by part, decoded: text parts with their clock times and
dates masked (a feedback says when its file was received), an attached workbook
member by member without docProps/core.xml (its creation time); the Date,
Message-ID and MIME boundaries, which differ on every run, are not part of
it. Two builds that print the same lines wrote the same warehouse and the
same mail. Needs pyarrow (scripts/test.sh installs it).
"""
import email
import hashlib
import io
import re
import sys
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def parquet_hash(path: Path) -> str:
    table = pq.read_table(path, partitioning=None)
    timed = [f.name for f in table.schema if f.name == "received_at" or pa.types.is_timestamp(f.type)]
    if not timed:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    kept = table.drop_columns(timed)
    digest = hashlib.sha256(repr(kept.schema).encode())
    digest.update(repr(kept.to_pylist()).encode())
    return "values:" + digest.hexdigest()


# "13:48 ngày 02/12/2026", "at 13:48 on 2026-12-02", HTML-escaped slashes too.
WHEN = re.compile(rb"\b\d{1,2}:\d{2}\b|\b\d{1,2}(?:/|&#x2f;)\d{1,2}(?:/|&#x2f;)\d{4}\b|\b\d{4}-\d{2}-\d{2}\b")


def eml_hash(path: Path) -> str:
    message = email.message_from_bytes(path.read_bytes())
    digest = hashlib.sha256()
    for name in ("From", "To", "Subject"):
        digest.update(f"{name}: {message.get(name)}\n".encode())
    for part in message.walk():
        if part.is_multipart():
            digest.update(f"[{part.get_content_type()}]\n".encode())
            continue
        payload = part.get_payload(decode=True) or b""
        digest.update(f"[{part.get_content_type()} {part.get_filename()}]\n".encode())
        if payload[:2] == b"PK":
            with zipfile.ZipFile(io.BytesIO(payload)) as book:
                for member in sorted(book.namelist()):
                    if member != "docProps/core.xml":
                        digest.update(member.encode() + book.read(member))
        elif part.get_content_maintype() == "text":
            digest.update(WHEN.sub(b"WHEN", payload))
        else:
            digest.update(payload)
    return digest.hexdigest()


def main() -> None:
    data = Path(sys.argv[1])
    for path in sorted((data / "warehouse").rglob("*.parquet")):
        if "_snapshots" not in path.parts:
            print(parquet_hash(path), path.relative_to(data))
    for path in sorted((data / "outbox").glob("*.eml")):
        print(eml_hash(path), path.relative_to(data))


if __name__ == "__main__":
    main()
