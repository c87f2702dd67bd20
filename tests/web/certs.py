"""A local test PKI for the request verifier: root CA, intermediate and echo-api.amazon.com leaf.

Keys are RSA 2048 and are generated once per test session (module-level cache). Everything is
relative to the fixed test clock NOW, so the tests do not depend on the real date.
"""

from __future__ import annotations

import base64
import functools
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = datetime(2026, 11, 22, 8, 0, 0, tzinfo=UTC)
ECHO = "echo-api.amazon.com"
GOOD_URL = "https://s3.amazonaws.com/echo.api/echo-api-cert-12.pem"
SKILL_ID = "amzn1.ask.skill.00000000-0000-0000-0000-000000000001"


@functools.cache
def key(name: str) -> rsa.RSAPrivateKey:
    """One RSA 2048 key per name, generated once per session."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Back Coach Test PKI"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _ca(subject: str, subject_key: rsa.RSAPrivateKey, issuer: str | None,
        issuer_key: rsa.RSAPrivateKey, path_length: int | None) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer or subject))
        .public_key(subject_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=365))
        .not_valid_after(NOW + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(subject_key.public_key()),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                       critical=False)
    )
    return builder.sign(issuer_key, hashes.SHA256())


def _leaf(subject_key: rsa.RSAPrivateKey, issuer: str, issuer_key: rsa.RSAPrivateKey, *,
          dns_names: tuple[str, ...] = (ECHO,), not_before: datetime | None = None,
          not_after: datetime | None = None) -> x509.Certificate:
    return (
        x509.CertificateBuilder()
        .subject_name(_name(dns_names[0]))
        .issuer_name(_name(issuer))
        .public_key(subject_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or NOW - timedelta(days=30))
        .not_valid_after(not_after or NOW + timedelta(days=300))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=True,
            data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in dns_names]),
                       critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(subject_key.public_key()),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                       critical=False)
        .sign(issuer_key, hashes.SHA256())
    )


def pem(*certs: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


@dataclass(frozen=True)
class PKI:
    root: x509.Certificate
    intermediate: x509.Certificate
    leaf: x509.Certificate
    chain: bytes  # leaf + intermediate, the way Amazon serves it
    expired_chain: bytes
    self_signed_chain: bytes
    wrong_san_chain: bytes
    untrusted_chain: bytes  # leaf + intermediate under a root the verifier does not trust
    short_lived_chain: bytes  # leaf expires 10 minutes after NOW
    leaf_key: rsa.RSAPrivateKey
    other_key: rsa.RSAPrivateKey


@functools.cache
def pki() -> PKI:
    root_key, inter_key, leaf_key = key("root"), key("intermediate"), key("leaf")
    other_root_key, other_key = key("other-root"), key("other")
    root = _ca("Test Root CA", root_key, None, root_key, None)
    inter = _ca("Test Intermediate CA", inter_key, "Test Root CA", root_key, 0)
    leaf = _leaf(leaf_key, "Test Intermediate CA", inter_key)
    expired = _leaf(leaf_key, "Test Intermediate CA", inter_key,
                    not_before=NOW - timedelta(days=400), not_after=NOW - timedelta(days=1))
    wrong_san = _leaf(leaf_key, "Test Intermediate CA", inter_key, dns_names=("evil.example.com",))
    short = _leaf(leaf_key, "Test Intermediate CA", inter_key,
                  not_after=NOW + timedelta(minutes=10))
    self_signed = _leaf(leaf_key, ECHO, leaf_key)
    other_inter = _ca("Other Intermediate CA", inter_key, "Other Root CA", other_root_key, 0)
    other_leaf = _leaf(leaf_key, "Other Intermediate CA", inter_key)
    return PKI(
        root=root, intermediate=inter, leaf=leaf,
        chain=pem(leaf, inter),
        expired_chain=pem(expired, inter),
        self_signed_chain=pem(self_signed),
        wrong_san_chain=pem(wrong_san, inter),
        untrusted_chain=pem(other_leaf, other_inter),
        short_lived_chain=pem(short, inter),
        leaf_key=leaf_key, other_key=other_key,
    )


def envelope(*, timestamp: datetime = NOW, request_type: str = "IntentRequest",
             application_id: str = SKILL_ID) -> dict[str, Any]:
    """A minimal, realistic request envelope."""
    stamp = timestamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "version": "1.0",
        "session": {
            "new": False, "sessionId": "amzn1.echo-api.session.test",
            "application": {"applicationId": application_id},
            "user": {"userId": "amzn1.ask.account.TEST"},
        },
        "context": {"System": {
            "application": {"applicationId": application_id},
            "user": {"userId": "amzn1.ask.account.TEST"},
            "device": {"deviceId": "amzn1.ask.device.TEST", "supportedInterfaces": {}},
            "apiEndpoint": "https://api.amazonalexa.com",
        }},
        "request": {
            "type": request_type, "requestId": "amzn1.echo-api.request.test",
            "timestamp": stamp, "locale": "en-US",
            **({"intent": {"name": "StartRoutineIntent", "confirmationStatus": "NONE"}}
               if request_type == "IntentRequest" else {}),
        },
    }


def sign(body: bytes, private_key: rsa.RSAPrivateKey | None = None) -> str:
    """The Signature-256 header value for ``body``."""
    private_key = private_key or pki().leaf_key
    raw = private_key.sign(body, padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(raw).decode("ascii")


def signed(body_or_envelope: bytes | dict[str, Any], *, url: str = GOOD_URL,
           private_key: rsa.RSAPrivateKey | None = None) -> tuple[dict[str, str], bytes]:
    """(headers, body) for a request signed by the test leaf key (or ``private_key``)."""
    body = (body_or_envelope if isinstance(body_or_envelope, bytes)
            else json.dumps(body_or_envelope).encode("utf-8"))
    return {"Signature-256": sign(body, private_key), "SignatureCertChainUrl": url,
            "Content-Type": "application/json"}, body
