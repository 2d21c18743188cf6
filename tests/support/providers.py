"""Outside systems of the message sender, run for real on this machine by the tests: a local HTTP
server that speaks Alibaba Cloud SMS's SendSms API (it checks the request signature with the
configured secret), a real SMTP server (aiosmtpd, with STARTTLS and sign-in), and the service token
campaigns presents to members."""

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import socket
import ssl
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

import uvicorn
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from shared.auth import Role, TokenIssuer

ACCESS_KEY_ID = "LTAI-test-key"
ACCESS_KEY_SECRET = "test-secret-0123456789"


@dataclass
class ServiceTokens:
    """The TokenSource campaigns uses in tests: a `service` token minted with the test's key, as the
    identity endpoint mints them for a service's client credential."""

    issuer: TokenIssuer
    subject: str = "svc-campaigns"
    handed_out: int = 0

    async def token(self) -> str:
        self.handed_out += 1
        return self.issuer.mint(self.subject, Role.SERVICE, ttl=dt.timedelta(hours=1))


# --- Alibaba Cloud SMS, as far as SendSms goes


def _encode(value: str) -> str:
    # Written apart from the adapter's on purpose, as the API documents it: RFC 3986, with the
    # encoder's '+', '*' and '%7E' put right.
    return quote(value, safe="~").replace("+", "%20").replace("*", "%2A").replace("%7E", "~")


def expected_signature(secret: str, method: str, params: dict[str, str]) -> str:
    canonical = "&".join(f"{_encode(k)}={_encode(params[k])}" for k in sorted(params))
    to_sign = f"{method}&%2F&{_encode(canonical)}"
    return base64.b64encode(hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()).decode()


@dataclass
class FakeAliyun:
    """Templates it has approved (code -> the parameters each needs); numbers it answers with a
    given error code instead of OK; every accepted request is kept."""

    sign_name: str
    templates: dict[str, set[str]]
    refuse: dict[str, str] = field(default_factory=dict)  # phone -> error code
    accepted: list[dict[str, str]] = field(default_factory=list)
    nonces: set[str] = field(default_factory=set)
    url: str = ""

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/")
        async def rpc(request: Request) -> JSONResponse:
            # The body is application/x-www-form-urlencoded, as the SDKs send it.
            params = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
            return self.answer(params)

        return app

    def answer(self, params: dict[str, str]) -> JSONResponse:
        request_id = str(uuid.uuid4())

        def error(code: str, message: str, http: int = 200) -> JSONResponse:
            return JSONResponse({"RequestId": request_id, "Code": code, "Message": message}, status_code=http)

        signature = params.pop("Signature", "")
        if params.get("AccessKeyId") != ACCESS_KEY_ID:
            return error("InvalidAccessKeyId.NotFound", "Specified access key is not found.", 404)
        if not hmac.compare_digest(signature, expected_signature(ACCESS_KEY_SECRET, "POST", params)):
            return error("SignatureDoesNotMatch", "Specified signature is not matched with our calculation.", 400)
        if params.get("SignatureNonce", "") in self.nonces:
            return error("SignatureNonceUsed", "Specified signature nonce was used already.", 400)
        self.nonces.add(params["SignatureNonce"])
        stamp = dt.datetime.strptime(params.get("Timestamp", ""), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
        if abs(dt.datetime.now(dt.UTC) - stamp) > dt.timedelta(minutes=15):
            return error("InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.", 400)
        fixed = {"Action": "SendSms", "Version": "2017-05-25", "Format": "JSON", "SignatureMethod": "HMAC-SHA1",
                 "SignatureVersion": "1.0", "RegionId": "cn-hangzhou"}
        if wrong := [k for k, v in fixed.items() if params.get(k) != v]:
            return error("MissingParameter", f"wrong or missing {wrong}", 400)
        if params.get("SignName") != self.sign_name:
            return error("isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名")
        needs = self.templates.get(params.get("TemplateCode", ""))
        if needs is None:
            return error("isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
        try:
            template_params = json.loads(params.get("TemplateParam", ""))
        except ValueError:
            return error("isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
        if not isinstance(template_params, dict) or not needs <= set(template_params):
            return error("isv.TEMPLATE_MISSING_PARAMETERS", "模板变量缺少对应参数值")
        if not params.get("OutId"):
            return error("MissingParameter", "OutId is expected here", 400)
        phone = params.get("PhoneNumbers", "")
        if code := self.refuse.get(phone):
            return error(code, {"isv.MOBILE_NUMBER_ILLEGAL": "非法手机号",
                                "isv.BUSINESS_LIMIT_CONTROL": "触发号码天级流控"}.get(code, "Request was denied due to user flow control."))
        if not (len(phone) == 11 and phone.isdigit()):
            return error("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        self.accepted.append(params)
        return JSONResponse({"RequestId": request_id, "Code": "OK", "Message": "OK", "BizId": f"{len(self.accepted)}^0"})


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """Runs `app` with uvicorn on a free loopback port; yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


# --- SMTP


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for localhost, made for the test, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@dataclass
class Mailbox:
    """What the SMTP server received; recipients it refuses with a permanent or a temporary code."""

    received: list[Envelope] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)  # address -> SMTP reply, e.g. "550 5.1.1 no such user"
    logins: list[str] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        self.received.append(envelope)
        return "250 Message accepted for delivery"


def authenticator(user: str, password: str, mailbox: Mailbox):  # type: ignore[no-untyped-def]
    def check(server: Any, session: Session, envelope: Envelope, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (user.encode(), password.encode())
        if ok:
            mailbox.logins.append(user)
        return AuthResult(success=ok, handled=False)
    return check


def tls_contexts(directory: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(the server's context, a client context trusting only the test's certificate)."""
    cert, key = self_signed(directory)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    return server, client


def smtp_server(mailbox: Mailbox, server_tls: ssl.SSLContext, *, user: str, password: str) -> Controller:
    """An SMTP server on a free loopback port that requires STARTTLS before sign-in and mail."""
    return Controller(mailbox, hostname="127.0.0.1", port=free_port(), tls_context=server_tls, require_starttls=True,
                      authenticator=authenticator(user, password, mailbox), auth_required=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
