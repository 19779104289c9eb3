"""The one masking function: properties over random secret values, and the debug-log helpers."""

from __future__ import annotations

import json
import threading
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from conductor_integrations.errors import TooDeepToPrint
from conductor_integrations.secrets import redact
from conductor_integrations.secrets.redact import MASK

#: Secret values: long enough, and from an alphabet that includes characters that change
#: when escaped (quotes, backslash, non-ASCII, percent, plus, slash), never "*".
SECRET_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_.~!#%+/\\\"'éß€"
secrets = st.text(alphabet=SECRET_ALPHABET, min_size=8, max_size=48)
#: The same with a "€" somewhere, so that text integ writes itself (ASCII) cannot contain
#: one by chance: for checks against output that is not under the test's control.
marked_secrets = st.tuples(secrets, st.integers(0, 48)).map(lambda t: t[0][: t[1]] + "€" + t[0][t[1] :])
#: Characters that are not in SECRET_ALPHABET, for text around a secret and other values.
OTHER_ALPHABET = "IO01l@ ,:;()[]{}<>\n"
prose = st.text(alphabet=OTHER_ALPHABET, max_size=40)
others = st.text(alphabet=OTHER_ALPHABET, min_size=1, max_size=20)


def forms(value: str) -> list[str]:
    return [
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        repr(value)[1:-1],
        quote(value, safe=""),
        quote_plus(value, safe=""),
    ]


def leaks(text: str, value: str) -> list[str]:
    return [f for f in forms(value) if len(f) >= redact.MIN_SCRUB_LENGTH and f in text]


@settings(max_examples=200)
@given(value=secrets, before=prose, after=prose)
def test_scrub_removes_every_form_of_a_registered_value(value: str, before: str, after: str) -> None:
    redact.forget_all()
    redact.register(value)
    for form in forms(value):
        text = before + form + after
        assert leaks(redact.scrub(text), value) == []


#: Text none of the escapings change (most tokens), and near misses of it.
PLAIN_ALPHABET = "ABCXYZabcxyz0189-_.~"
plain_texts = st.text(alphabet=PLAIN_ALPHABET, max_size=40)


@settings(max_examples=300)
@given(
    value=plain_texts, extra=st.sampled_from(["", " ", "%", "+", "/", "'", '"', "&", "<", "é", "\n", "\\"])
)
def test_the_forms_of_plain_text_are_those_every_escaping_gives(value: str, extra: str) -> None:
    # The shortcut for text no escaping changes must find exactly what computing each
    # escaping finds; text with one character that escapes takes the long way.
    for text in (value, value + extra, extra + value):
        assert redact._forms(text) == redact._escaped_forms(text)


@settings(max_examples=100)
@given(value=marked_secrets, other=others)
def test_json_and_yaml_bodies_never_show_a_registered_value(value: str, other: str) -> None:
    redact.forget_all()
    redact.register(value)
    body = {"type": "openai", "configuration": {"api_key": value, "note": f"x{value}y"}, "v": other}
    for text in (
        json.dumps(body),
        json.dumps(body, ensure_ascii=False),
        yaml.safe_dump(body, allow_unicode=True),
        repr(body),
    ):
        assert leaks(redact.scrub(text), value) == []
    assert leaks(json.dumps(redact.scrub_data(body)), value) == []


@settings(max_examples=100)
@given(text=prose)
def test_scrub_leaves_other_text_alone(text: str) -> None:
    redact.forget_all()
    redact.register("ZZZZ-not-in-the-text")
    assert redact.scrub(text) == text


@settings(max_examples=100)
@given(value=secrets, text=prose)
def test_scrub_is_idempotent(value: str, text: str) -> None:
    redact.forget_all()
    redact.register(value)
    once = redact.scrub(text + value + text)
    assert redact.scrub(once) == once


def test_a_value_with_a_quote_is_masked_in_a_repr_that_escapes_it() -> None:
    # A repr of text holding both quotes uses ' and escapes it: Zq\\'wE... there.
    redact.forget_all()
    value = "Zq'wErTy-51kP"
    redact.register(value)
    shown = repr('say " ' + value + " here")
    assert "wErTy-51kP" not in redact.scrub(shown)
    assert redact.scrub(repr({"k": value + '"'})).count("wErTy") == 0


def test_a_value_containing_another_is_masked_whole() -> None:
    redact.register("abcd1234", "xxabcd1234yy")
    assert redact.scrub("<xxabcd1234yy>") == f"<{MASK}>"


def test_multi_line_values_are_masked_line_by_line() -> None:
    service_account = '{\n  "type": "service_account",\n  "private_key": "-----BEGIN KEY-----\\nMIIEabc"\n}'
    redact.register(service_account)
    printed = redact.scrub("line: " + service_account.replace("\n", " "))
    assert "MIIEabc" not in printed and "service_account" not in printed
    assert "MIIEabc" not in redact.scrub(json.dumps({"file": service_account}))


def test_short_values_are_masked_by_key_only() -> None:
    redact.register("ab1")
    assert redact.scrub("lab1 grab1") == "lab1 grab1"
    assert redact.mask_config({"password": "ab1", "host": "h"}, {"password"}) == {
        "password": MASK,
        "host": "h",
    }


def test_passwords_in_urls_are_masked_unregistered() -> None:
    text = "GET https://user:pa55word@conductor.example.com/api and http://host:8080/x@y"
    assert redact.scrub(text) == (
        f"GET https://user:{MASK}@conductor.example.com/api and http://host:8080/x@y"
    )


def test_mask_provider_masks_secret_keys_only() -> None:
    obj = {"name": "p", "configuration": {"api_key": "k-1234567", "endpoint": "https://e", "password": ""}}
    assert redact.mask_provider(obj, {"api_key", "password"}) == {
        "name": "p",
        "configuration": {"api_key": MASK, "endpoint": "https://e", "password": ""},
    }


# -- the --debug HTTP log helpers ----------------------------------------------------------------


def test_mask_headers() -> None:
    redact.register("registered-in-a-header")
    headers = {
        "X-Authorization": "eyJ.unregistered.token",
        "authorization": "Basic abc",
        "Cookie": "session=1",
        "Content-Type": "application/json",
        "X-Echo": "registered-in-a-header",
    }
    assert redact.mask_headers(headers) == {
        "X-Authorization": MASK,
        "authorization": MASK,
        "Cookie": MASK,
        "Content-Type": "application/json",
        "X-Echo": MASK,
    }


def test_mask_body_by_name_at_any_depth() -> None:
    redact.register("registered-value-9")
    body = {
        "keyId": "kid",
        "keySecret": "unregistered-secret",
        "token": "eyJ-unregistered",
        "configuration": {"api_key": "sk-unregistered", "endpoint": "https://e", "password": None},
        "models": [{"configuration": {"password": "pw-unregistered"}}],
        "message": "echo registered-value-9 back",
    }
    masked = redact.mask_body(body)
    assert masked == {
        "keyId": "kid",
        "keySecret": MASK,
        "token": MASK,
        "configuration": {"api_key": MASK, "endpoint": "https://e", "password": None},
        "models": [{"configuration": {"password": MASK}}],
        "message": f"echo {MASK} back",
    }


def test_mask_json_text() -> None:
    redact.register("registered-value-9")
    raw = json.dumps({"keyId": "k", "keySecret": "s-unregistered"}).encode()
    assert json.loads(redact.mask_json_text(raw)) == {"keyId": "k", "keySecret": MASK}
    assert redact.mask_json_text("plain registered-value-9 text") == f"plain {MASK} text"
    assert redact.mask_json_text(None) == ""


def test_register_and_scrub_from_many_threads() -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(40):
                redact.register(f"thread-{n}-value-{i}")
                assert MASK in redact.scrub(f"thread-{n}-value-{i}")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("********", True),
        ("xxxxxxxxxx", True),
        ("*", True),
        ("x", True),
        ("xxx", True),
        ("", False),
        ("*x*x", False),
        ("X", False),
        ("sk-xxxx", False),
        (None, False),
        (5, False),
    ],
)
def test_is_masked(value: Any, masked: bool) -> None:
    assert redact.is_masked(value) is masked


#: Many secrets that share starts: a common prefix, and some the start of others, so that
#: the look-up by first characters has crowded buckets and forms that end inside others.
CUT_MARKS = " .\"'"
shared_prefix_secrets = st.lists(
    st.tuples(st.sampled_from(["", "sk-", "sk-proj-", "sk-proj-team-"]), secrets).map("".join),
    min_size=20,
    max_size=300,
    unique=True,
)


@settings(max_examples=40, deadline=None)
@given(values=shared_prefix_secrets, data=st.data())
def test_many_secrets_sharing_starts_are_all_masked(values: list[str], data: st.DataObject) -> None:
    redact.forget_all()
    # Registered in batches of every size, as a fleet registers them.
    cut = data.draw(st.integers(0, len(values)))
    redact.register(*values[:cut])
    for value in values[cut:]:
        redact.register(value)
    shown = data.draw(st.lists(st.sampled_from(values), min_size=1, max_size=30))
    gaps = data.draw(st.lists(prose, min_size=len(shown) + 1, max_size=len(shown) + 1))
    text = gaps[0] + "".join(f"{value}{gap}" for value, gap in zip(shown, gaps[1:], strict=True))
    for printed in (text, json.dumps({"values": shown, "text": text}), repr(text)):
        scrubbed = redact.scrub(printed)
        for value in values:
            assert leaks(scrubbed, value) == []
    # The text around the secrets is kept, in order.
    kept = [piece for piece in redact.scrub(text).split(MASK) if piece]
    assert "".join(kept) == "".join(gaps)


@settings(max_examples=40, deadline=None)
@given(values=shared_prefix_secrets, text=prose)
def test_many_secrets_leave_other_text_alone(values: list[str], text: str) -> None:
    redact.forget_all()
    redact.register(*values)
    assert redact.scrub(text) == text


@settings(max_examples=40, deadline=None)
@given(values=shared_prefix_secrets, data=st.data())
def test_a_cut_piece_of_one_of_many_secrets_is_masked(values: list[str], data: st.DataObject) -> None:
    redact.forget_all()
    redact.register(*values)
    value = data.draw(st.sampled_from(values))
    size = data.draw(st.integers(redact.MIN_PARTIAL, len(value) - 1))
    # Quotes and dots beside a cut are taken for cut marks, not for the secret.
    assume(value[:size] == value[:size].strip(CUT_MARKS) and value[-size:] == value[-size:].strip(CUT_MARKS))
    start = redact.scrub_cut("error near " + value[:size] + "...")
    end = redact.scrub_cut(value[-size:] + " was refused")
    assert value[:size] not in start and start.startswith("error near ")
    assert value[-size:] not in end and end.endswith(" was refused")


def test_many_secrets_one_the_start_of_another_are_masked_whole() -> None:
    redact.forget_all()
    values = [f"sk-proj-{'a' * n}" for n in range(1, 200)]
    redact.register(*values)
    assert redact.scrub("<" + values[-1] + "> <" + values[3] + "!") == f"<{MASK}> <{MASK}!"
    assert redact.scrub("sk-proj- alone") == "sk-proj- alone"


#: JSON-like data: every kind of value and key the JSON encoder takes, text with quotes,
#: backslashes, controls and bidi characters, and registered secrets as keys and values.
_json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=SECRET_ALPHABET + OTHER_ALPHABET + "\x01\x7f\x85\u202e", max_size=12),
    st.sampled_from(["sk-live-AAAA1111", "pw 'q' \"x\"", "sk-live-AAAA1111 and more"]),
)
_json_keys = st.one_of(
    st.text(alphabet='abcXYZ"\\\n\u202e', max_size=5),
    st.sampled_from(["sk-live-AAAA1111", "pw 'q' \"x\""]),
    st.integers(-5, 5),
    st.sampled_from([None, True, False, 1.5]),
)
json_like = st.recursive(
    _json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(_json_keys, inner, max_size=4),
    ),
    max_leaves=25,
)


@settings(max_examples=400)
@given(data=json_like)
def test_scrubbed_json_is_the_text_json_gives_of_the_scrubbed_data(data: Any) -> None:
    redact.forget_all()
    redact.register("sk-live-AAAA1111", "pw 'q' \"x\"")
    expected = json.dumps(redact.scrub_data(data), indent=2, ensure_ascii=False)
    assert redact.scrubbed_json(data) == expected
    assert "AAAA1111" not in expected


def test_scrubbed_json_refuses_what_json_refuses() -> None:
    deep: Any = "x"
    for _ in range(redact.MAX_DEPTH + 1):
        deep = [deep]
    with pytest.raises(TooDeepToPrint):
        redact.scrubbed_json(deep)
    with pytest.raises(TypeError):
        redact.scrubbed_json({"a": object()})
    with pytest.raises(TypeError):
        redact.scrubbed_json({("tuple", "key"): 1})


#: Text made of the pieces URLs with passwords are made of, and what breaks them.
url_texts = st.lists(
    st.sampled_from(
        [
            *["://", ":", "@", "/", " ", "\n", "a", "Z", "9", "+", ".", "-", "_", "é", "https", "pw", "\t"],
            *["https://u:p@h", "a+b.c-d://x:y@z", "s3://k:s@", "://u:p@", "x://:p@/", "1a://u:v@", "@/"],
        ]
    ),
    max_size=30,
).map("".join)


@settings(max_examples=1000)
@given(text=url_texts)
def test_url_passwords_are_masked_as_the_whole_text_regex_masks_them(text: str) -> None:
    whole = redact._URL_PASSWORD.sub(lambda m: m.group("head") + MASK, text)
    assert redact._url_passwords(text) == whole


@settings(max_examples=200)
@given(values=st.lists(secrets, min_size=1, max_size=6), data=st.data())
def test_few_values_are_found_with_find_as_by_looking_at_every_place(
    values: list[str], data: st.DataObject
) -> None:
    redact.forget_all()
    redact.register(*values)
    pieces = data.draw(st.lists(st.one_of(st.sampled_from(values), prose), max_size=8))
    text = "".join(pieces) + "".join(v[: len(v) // 2] for v in values)
    by_find = redact.scrub(text)
    limit = redact._FIND_ANCHORS
    redact._FIND_ANCHORS = 0
    try:
        by_place = redact.scrub(text)
    finally:
        redact._FIND_ANCHORS = limit
    assert by_find == by_place
    assert leaks(by_find, values[0]) == []


def test_a_value_whose_start_repeats_is_found_where_its_starts_overlap() -> None:
    redact.forget_all()
    redact.register("abababab-1234")
    assert redact.scrub("xab" + "abababab-1234" + "y") == "xab" + MASK + "y"
    assert redact.scrub("abababab-1234abababab-1234") == MASK + MASK


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("a://u:p@/x", True),
        ("go to https://me:pw@host/x now", True),
        ("s3://k:s@b and ftp://u:v@h", True),
        ("1a://u:v@", False),  # a scheme begins with a letter, at a word's start
        ("é://u:p@", False),
        ("https://host/a:b@c", False),  # a slash before the password: not a URL's user
    ],
)
def test_url_passwords_examples(text: str, masked: bool) -> None:
    whole = redact._URL_PASSWORD.sub(lambda m: m.group("head") + MASK, text)
    assert (whole != text) == masked
    assert redact._url_passwords(text) == whole
