#!/usr/bin/env python3
"""Turns a digest .eml into a folder a browser opens: index.html with the
inline charts as files, plus the text part and the attachment.

    python3 scripts/preview_eml.py data/outbox/000001-digest-….eml /tmp/preview
    xdg-open /tmp/preview/index.html

Optionally, with Chromium installed, a phone-sized screenshot:

    chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
        --window-size=412,2400 --screenshot=/tmp/preview/digest.png \
        file:///tmp/preview/index.html
"""
import email
import email.policy
import pathlib
import sys


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    source, target = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    target.mkdir(parents=True, exist_ok=True)
    message = email.message_from_bytes(source.read_bytes(), policy=email.policy.default)
    html = message.get_body(("html",)).get_content()
    (target / "message.txt").write_text(
        f"Subject: {message['subject']}\nTo: {message['to']}\n\n"
        + message.get_body(("plain",)).get_content(),
        encoding="utf-8",
    )
    for part in message.walk():
        content_id = part.get("Content-ID")
        if content_id and part.get_content_type().startswith("image/"):
            cid = content_id.strip("<>")
            name = cid.split("@")[0] + ".png"
            (target / name).write_bytes(part.get_content())
            html = html.replace(f"cid:{cid}", name)
        elif part.get_filename():
            (target / part.get_filename()).write_bytes(part.get_content())
    (target / "index.html").write_text(html, encoding="utf-8")
    print(target / "index.html")
    return 0


if __name__ == "__main__":
    sys.exit(main())
