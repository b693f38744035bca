"""Handshake patterns as data: the token tables of Noise rev. 34, and protocol-name parsing.

The tables are written exactly as the spec prints them (section 7.4 one-way, 7.5
fundamental interactive, 7.6 / 18.1 deferred, 9.4 the named psk patterns), one pattern
per entry, pre-messages above `...`. `HandshakeState` walks these tokens; no pattern is
hand-coded anywhere else. PSK modifiers are applied generically (section 9.4: `psk0`
puts a `psk` token at the start of the first message, `pskN` at the end of message N),
and the named psk table is kept so a test can check the rule against the spec's list.
Unknown patterns, modifiers or suites raise `UnsupportedProtocol`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pysnac.noise.crypto import CIPHER_NAME, DH_NAME, HASH_NAME, NoiseError

TOKENS = frozenset({"e", "s", "ee", "es", "se", "ss", "psk"})
PRE_MESSAGE_TOKENS = frozenset({"e", "s"})
INITIATOR_ARROW = "->"
RESPONDER_ARROW = "<-"

# Section 7.4: one-way patterns (the sender is the initiator; one message).
ONE_WAY = {
    "N": "<- s\n...\n-> e, es",
    "K": "-> s\n<- s\n...\n-> e, es, ss",
    "X": "<- s\n...\n-> e, es, s, ss",
}

# Section 7.5: fundamental interactive patterns.
FUNDAMENTAL = {
    "NN": "-> e\n<- e, ee",
    "NK": "<- s\n...\n-> e, es\n<- e, ee",
    "NX": "-> e\n<- e, ee, s, es",
    "XN": "-> e\n<- e, ee\n-> s, se",
    "XK": "<- s\n...\n-> e, es\n<- e, ee\n-> s, se",
    "XX": "-> e\n<- e, ee, s, es\n-> s, se",
    "KN": "-> s\n...\n-> e\n<- e, ee, se",
    "KK": "-> s\n<- s\n...\n-> e, es, ss\n<- e, ee, se",
    "KX": "-> s\n...\n-> e\n<- e, ee, se, s, es",
    "IN": "-> e, s\n<- e, ee, se",
    "IK": "<- s\n...\n-> e, es, s, ss\n<- e, ee, se",
    "IX": "-> e, s\n<- e, ee, se, s, es",
}

# Sections 7.6 and 18.1: deferred patterns (a "1" defers that party's authentication).
DEFERRED = {
    "NK1": "<- s\n...\n-> e\n<- e, ee, es",
    "NX1": "-> e\n<- e, ee, s\n-> es",
    "X1N": "-> e\n<- e, ee\n-> s\n<- se",
    "X1K": "<- s\n...\n-> e, es\n<- e, ee\n-> s\n<- se",
    "XK1": "<- s\n...\n-> e\n<- e, ee, es\n-> s, se",
    "X1K1": "<- s\n...\n-> e\n<- e, ee, es\n-> s\n<- se",
    "X1X": "-> e\n<- e, ee, s, es\n-> s\n<- se",
    "XX1": "-> e\n<- e, ee, s\n-> es, s, se",
    "X1X1": "-> e\n<- e, ee, s\n-> es, s\n<- se",
    "K1N": "-> s\n...\n-> e\n<- e, ee\n-> se",
    "K1K": "-> s\n<- s\n...\n-> e, es\n<- e, ee\n-> se",
    "KK1": "-> s\n<- s\n...\n-> e\n<- e, ee, se, es",
    "K1K1": "-> s\n<- s\n...\n-> e\n<- e, ee, es\n-> se",
    "K1X": "-> s\n...\n-> e\n<- e, ee, s, es\n-> se",
    "KX1": "-> s\n...\n-> e\n<- e, ee, se, s\n-> es",
    "K1X1": "-> s\n...\n-> e\n<- e, ee, s\n-> se, es",
    "I1N": "-> e, s\n<- e, ee\n-> se",
    "I1K": "<- s\n...\n-> e, es, s\n<- e, ee\n-> se",
    "IK1": "<- s\n...\n-> e, s\n<- e, ee, se, es",
    "I1K1": "<- s\n...\n-> e, s\n<- e, ee, es\n-> se",
    "I1X": "-> e, s\n<- e, ee, s, es\n-> se",
    "IX1": "-> e, s\n<- e, ee, se, s\n-> es",
    "I1X1": "-> e, s\n<- e, ee, s\n-> se, es",
}

# Section 9.4: the psk patterns the spec names, as printed there. `parse_pattern` derives
# these (and any other pskN combination) by rule; tests check the two agree.
NAMED_PSK = {
    "Npsk0": "<- s\n...\n-> psk, e, es",
    "Kpsk0": "-> s\n<- s\n...\n-> psk, e, es, ss",
    "Xpsk1": "<- s\n...\n-> e, es, s, ss, psk",
    "NNpsk0": "-> psk, e\n<- e, ee",
    "NNpsk2": "-> e\n<- e, ee, psk",
    "NKpsk0": "<- s\n...\n-> psk, e, es\n<- e, ee",
    "NKpsk2": "<- s\n...\n-> e, es\n<- e, ee, psk",
    "NXpsk2": "-> e\n<- e, ee, s, es, psk",
    "XNpsk3": "-> e\n<- e, ee\n-> s, se, psk",
    "XKpsk3": "<- s\n...\n-> e, es\n<- e, ee\n-> s, se, psk",
    "XXpsk3": "-> e\n<- e, ee, s, es\n-> s, se, psk",
    "KNpsk0": "-> s\n...\n-> psk, e\n<- e, ee, se",
    "KNpsk2": "-> s\n...\n-> e\n<- e, ee, se, psk",
    "KKpsk0": "-> s\n<- s\n...\n-> psk, e, es, ss\n<- e, ee, se",
    "KKpsk2": "-> s\n<- s\n...\n-> e, es, ss\n<- e, ee, se, psk",
    "KXpsk2": "-> s\n...\n-> e\n<- e, ee, se, s, es, psk",
    "INpsk1": "-> e, s, psk\n<- e, ee, se",
    "INpsk2": "-> e, s\n<- e, ee, se, psk",
    "IKpsk1": "<- s\n...\n-> e, es, s, ss, psk\n<- e, ee, se",
    "IKpsk2": "<- s\n...\n-> e, es, s, ss\n<- e, ee, se, psk",
    "IXpsk2": "-> e, s\n<- e, ee, se, s, es, psk",
}

BASE_PATTERNS = {**ONE_WAY, **FUNDAMENTAL, **DEFERRED}
_PSK_MODIFIER = re.compile(r"psk(\d+)")
_PATTERN_NAME = re.compile(r"([A-Z0-9]+)([a-z].*)?")


class UnsupportedProtocol(NoiseError):
    """A protocol name, pattern or modifier this implementation does not provide."""


@dataclass(frozen=True)
class HandshakePattern:
    """Tokens of one pattern. Message i is sent by the initiator when i is even."""

    name: str
    initiator_pre: tuple[str, ...]
    responder_pre: tuple[str, ...]
    messages: tuple[tuple[str, ...], ...]

    @property
    def one_way(self) -> bool:
        """True for N, K, X (and their psk forms): only the initiator ever sends."""
        return len(self.messages) == 1

    @property
    def uses_psk(self) -> bool:
        return any("psk" in message for message in self.messages)

    @property
    def psk_count(self) -> int:
        return sum(message.count("psk") for message in self.messages)


def _parse_table_entry(name: str, text: str) -> HandshakePattern:
    """Turn the spec's notation into tokens, checking arrows alternate from "->"."""
    pre: dict[str, tuple[str, ...]] = {INITIATOR_ARROW: (), RESPONDER_ARROW: ()}
    lines = text.split("\n")
    if "..." in lines:
        cut = lines.index("...")
        for line in lines[:cut]:
            arrow, tokens = _split_line(name, line)
            if pre[arrow] or not set(tokens) <= PRE_MESSAGE_TOKENS:
                raise ValueError(f"{name}: bad pre-message {line!r}")
            pre[arrow] = tokens
        lines = lines[cut + 1 :]
    messages = []
    for index, line in enumerate(lines):
        arrow, tokens = _split_line(name, line)
        expected = INITIATOR_ARROW if index % 2 == 0 else RESPONDER_ARROW
        if arrow != expected or not set(tokens) <= TOKENS:
            raise ValueError(f"{name}: bad message {index} {line!r}")
        messages.append(tokens)
    return HandshakePattern(name, pre[INITIATOR_ARROW], pre[RESPONDER_ARROW], tuple(messages))


def _split_line(name: str, line: str) -> tuple[str, tuple[str, ...]]:
    arrow, _, rest = line.strip().partition(" ")
    if arrow not in (INITIATOR_ARROW, RESPONDER_ARROW):
        raise ValueError(f"{name}: no arrow in {line!r}")
    return arrow, tuple(token.strip() for token in rest.split(","))


def _apply_psk(pattern: HandshakePattern, modifier: str) -> HandshakePattern:
    """Section 9.4: psk0 starts the first message, pskN ends message N."""
    match = _PSK_MODIFIER.fullmatch(modifier)
    if match is None:
        raise UnsupportedProtocol(f"unsupported pattern modifier {modifier!r}")
    position = int(match.group(1))
    messages = list(pattern.messages)
    if position > len(messages):
        raise UnsupportedProtocol(f"{modifier}: the pattern has only {len(messages)} messages")
    if position == 0:
        messages[0] = ("psk", *messages[0])
    else:
        messages[position - 1] = (*messages[position - 1], "psk")
    return HandshakePattern(
        pattern.name, pattern.initiator_pre, pattern.responder_pre, tuple(messages)
    )


def parse_pattern(name: str) -> HandshakePattern:
    """A pattern name with optional modifiers ("XX", "IKpsk2", "NNpsk0+psk2") -> tokens."""
    match = _PATTERN_NAME.fullmatch(name)
    if match is None or match.group(1) not in BASE_PATTERNS:
        raise UnsupportedProtocol(f"unknown handshake pattern {name!r}")
    pattern = _parse_table_entry(match.group(1), BASE_PATTERNS[match.group(1)])
    for modifier in (match.group(2) or "").split("+") if match.group(2) else ():
        pattern = _apply_psk(pattern, modifier)
    return HandshakePattern(name, pattern.initiator_pre, pattern.responder_pre, pattern.messages)


@dataclass(frozen=True)
class Protocol:
    """A parsed protocol name: Noise_<pattern>_<dh>_<cipher>_<hash> (section 8)."""

    name: str
    pattern: HandshakePattern


def parse_protocol_name(name: str) -> Protocol:
    """Parse a full name; only the 25519_ChaChaPoly_BLAKE2b suite is supported."""
    parts = name.split("_")
    if len(parts) != 5 or parts[0] != "Noise":
        raise UnsupportedProtocol(f"not a Noise protocol name: {name!r}")
    if (parts[2], parts[3], parts[4]) != (DH_NAME, CIPHER_NAME, HASH_NAME):
        raise UnsupportedProtocol(f"unsupported suite {'_'.join(parts[2:])!r}")
    return Protocol(name, parse_pattern(parts[1]))


def table_pattern(name: str) -> HandshakePattern:
    """A pattern exactly as one of the tables above prints it (for cross-checks)."""
    return _parse_table_entry(name, {**BASE_PATTERNS, **NAMED_PSK}[name])
