import re

import pytest
from plenary.domain.credentials import (
    JOIN_CODE_ALPHABET,
    make_token,
    new_join_code,
    normalise_join_code,
    read_token,
    verify_token,
)
from plenary.domain.errors import Unauthenticated
from plenary.domain.permissions import Role

SECRET = b"k" * 32


def test_join_codes_avoid_lookalikes():
    assert not set("0O1IL") & set(JOIN_CODE_ALPHABET)
    codes = {new_join_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(re.fullmatch(f"[{JOIN_CODE_ALPHABET}]{{8}}", c) for c in codes)


def test_join_codes_are_case_and_space_insensitive():
    assert normalise_join_code(" abcd-23 45 ") == "ABCD2345"


@pytest.mark.parametrize("role", [Role.ORGANISER, Role.DASHBOARD, Role.FACILITATOR])
def test_token_round_trip(role):
    token = make_token(SECRET, role, "scope1", 0)
    claim = read_token(token)
    assert (claim.role, claim.scope_id) == (role, "scope1")
    verify_token(SECRET, claim, 0)
    assert len(claim.mac) >= 22  # >= 128 bits of base64


def test_token_fails_on_new_generation_other_key_or_tampering():
    token = make_token(SECRET, Role.ORGANISER, "ev", 0)
    with pytest.raises(Unauthenticated):
        verify_token(SECRET, read_token(token), 1)
    with pytest.raises(Unauthenticated):
        verify_token(b"x" * 32, read_token(token), 0)
    forged = token.replace("o.", "d.", 1)  # a dashboard link must not open the console
    with pytest.raises(Unauthenticated):
        verify_token(SECRET, read_token(forged), 0)


@pytest.mark.parametrize("bad", ["", "nonsense", "x.ev.mac", "o..mac", "o.ev.", "o.a.b.c"])
def test_malformed_tokens(bad):
    with pytest.raises(Unauthenticated) as info:
        read_token(bad)
    assert info.value.code == "bad_token"


def test_ids_never_look_like_command_line_options():
    from plenary.domain.credentials import new_id

    ids = [new_id() for _ in range(2000)]
    assert all(i[0] != "-" and len(i) == 12 for i in ids)
