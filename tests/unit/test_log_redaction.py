"""`contactsync.logs.redact` and the handler filter: secrets' shapes never reach the log, whatever surrounds
them; ordinary words do."""

from __future__ import annotations

import io
import logging
import string

from hypothesis import example, given
from hypothesis import strategies as st

from contactsync.logs import QUIET, REDACTED, SecretRedactor, redact

alnum = st.text(string.ascii_letters + string.digits, min_size=8, max_size=40)
secrets = st.one_of(
    st.tuples(st.sampled_from(["xoxb", "xoxp", "xoxa", "xoxe.xoxp", "xapp"]), alnum, alnum).map("-".join),
    alnum.map(lambda s: "ya29.a0Af" + s),
    st.tuples(alnum, alnum, alnum).map(lambda t: "eyJ" + ".".join(t)),
    st.lists(alnum, min_size=1, max_size=4).map(
        lambda lines: "-----BEGIN PRIVATE KEY-----\\n" + "\\n".join(lines) + "\\n-----END PRIVATE KEY-----\\n"),
    alnum.map(lambda s: f"https://hooks.slack.com/commands/T0CSYNC01/1234/{s}"),
    alnum.map(lambda s: f"http://127.0.0.1:8080/response/{s}?x=1"),
)
# What surrounds a secret in a log line: words, quotes, JSON punctuation, "url: ", "Bearer "...
surroundings = st.text(string.ascii_letters + " :,{}[]()'\"\n", max_size=20)


@given(before=surroundings, secret=secrets, after=surroundings)
def test_a_secret_never_survives_redaction(before: str, secret: str, after: str) -> None:
    core = secret.split("/")[-1] if secret.startswith("http") else secret
    # The surroundings may happen to spell the secret's core themselves ("AAAAAAAA" before a URL ending in
    # it): what must not survive is the secret's own occurrence.
    assert redact(before + secret + after).count(core) <= before.count(core) + after.count(core)


@given(key=st.sampled_from(["access_token", "token", "assertion", "client_secret", "private_key_id", "password",
                            "page_token"]),
       sep=st.sampled_from(["=", ": ", '": "', "':'"]), value=alnum)
@example(key="access_token", sep="=", value="Authoriz")  # found by hypothesis in CI: a value the words spell
def test_a_credential_named_by_its_key_is_blanked(key: str, sep: str, value: str) -> None:
    # What must not survive is the value's own occurrence (the words around it may spell it: "Authoriz").
    for before, after in ((f"request {{{key}{sep}", "} sent"), ("Authorization: Bearer ", "")):
        redacted = redact(before + value + after)
        assert redacted.count(value) <= before.count(value) + after.count(value) and REDACTED in redacted


@given(text=st.text(string.ascii_letters + string.digits + " .,()-_'\n", max_size=200))
def test_ordinary_text_is_left_alone_and_redaction_is_stable(text: str) -> None:
    assert redact(redact(text)) == redact(text)
    if not any(marker in text for marker in ("xox", "xapp-", "ya29.", "eyJ", "earer ", "asic ")):
        assert redact(text) == text


def test_urls_keep_only_scheme_and_host() -> None:
    assert redact("posting to https://hooks.slack.com/actions/T1/2/abc failed") == \
        "posting to https://hooks.slack.com/… failed"
    assert redact("listening at http://127.0.0.1:3000") == "listening at http://127.0.0.1:3000"


def test_the_handler_filter_redacts_messages_arguments_and_tracebacks() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(SecretRedactor())
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        token = "xoxb-1234-5678-AbCdEfGhIjKlMnOp"
        logger.warning("client %s failed", token)
        try:
            raise ValueError(f"bad token {token}")
        except ValueError:
            logger.exception("call failed")
    finally:
        logger.removeHandler(handler)
    written = out.getvalue()
    assert token not in written and written.count(REDACTED) == 2 and "ValueError" in written
    assert "slack_sdk.webhook" in QUIET  # it logs each response_url at DEBUG


def test_a_record_that_cannot_be_formatted_is_dropped_by_both_filters() -> None:
    from bot.bolt_logs import BoltBodyFilter

    for log_filter in (SecretRedactor(), BoltBodyFilter()):
        bad = logging.LogRecord("x", logging.INFO, __file__, 1, "%d items", ("many",), None)
        assert log_filter.filter(bad) is False
        good = logging.LogRecord("x", logging.INFO, __file__, 1, "%d items", (3,), None)
        assert log_filter.filter(good) is True
        assert (good.msg, good.args) == ("3 items", ())


def test_bolts_signature_failure_line_loses_its_body() -> None:
    from bot.bolt_logs import BoltBodyFilter

    body = "token=abc&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1%2F2%2Fsecret"
    record = logging.LogRecord("slack_bolt", logging.INFO, __file__, 1,
                               "Invalid request signature detected (signature: v0=1, timestamp: 2, body: %s)",
                               (body,), None)
    assert BoltBodyFilter().filter(record) is True
    assert record.getMessage() == "Invalid request signature detected (body not logged)"
