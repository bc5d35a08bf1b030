"""Email alerts through Apprise ``mailto://`` to a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

from qpan.scheduler.alerts import dispatch_after_run
from support.alerting import VIETNAMESE_TITLES, alert_config, migrated_database, new_run, store_relevant
from support.receivers import smtp_server


def test_digest_email_arrives_once_with_vietnamese_subject_and_body(tmp_path: Path) -> None:
    database = migrated_database(tmp_path)
    run_id = new_run(database)
    store_relevant(database, run_id, VIETNAMESE_TITLES)
    with smtp_server() as mailbox:
        config = alert_config([mailbox.url])
        dispatch_after_run(database, config, run_id)
        dispatch_after_run(database, config, new_run(database))

    assert len(mailbox.messages) == 1
    message = mailbox.messages[0]
    assert VIETNAMESE_TITLES[0] in message["subject"]
    assert message["to"] == "editor@example.org"
    html_part = message.get_body(("html",))
    assert html_part is not None and html_part.get_content_charset() == "utf-8"
    body = html_part.get_content()
    for title in VIETNAMESE_TITLES:
        assert title in body
    assert '<a href="https://baobackan.example.vn/' in body
    assert "score 0.80" in body and "16/01/2025 08:00" in body
