"""Which errors are "retry later" (503 with Retry-After) and which are not — no server needed."""

from __future__ import annotations

import pickle

import pytest
from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import as_unavailable, retry_headers
from api.idempotency import fingerprint
from domain.errors import Conflict, Unavailable
from adapters.gateway import unavailable


@pytest.mark.parametrize(
    "err, code",
    [
        (RPCError("limit on number of concurrent in-flight updates has been reached (10)", RPCStatusCode.RESOURCE_EXHAUSTED, b""), "busy"),
        (RPCError("unavailable", RPCStatusCode.UNAVAILABLE, b""), "temporal_unavailable"),
        (RPCError("deadline", RPCStatusCode.DEADLINE_EXCEEDED, b""), "temporal_unavailable"),
        (RPCError("cancelled", RPCStatusCode.CANCELLED, b""), "temporal_unavailable"),
        (RPCError("transport error", RPCStatusCode.UNKNOWN, b""), "temporal_unavailable"),
        (WorkflowUpdateRPCTimeoutOrCancelledError(), "busy"),
        (RuntimeError("Failed client connect: Server connection error: tonic::transport::Error(Transport, ConnectError)"), "temporal_unavailable"),
        (ConnectionRefusedError(111, "Connection refused"), "temporal_unavailable"),
    ],
    ids=["resource-exhausted", "unavailable", "deadline", "cancelled", "transport", "update-timeout", "cannot-connect", "refused"],
)
def test_overload_and_outages_are_503_with_retry_after(err, code):
    found = unavailable(err)
    assert isinstance(found, Unavailable) and found.code == code
    assert " / " in found.message and "Idempotency-Key" in found.message
    assert int(retry_headers(found)["Retry-After"]) >= 1
    assert as_unavailable(err).code == code


@pytest.mark.parametrize("err", [
    RPCError("bad", RPCStatusCode.INVALID_ARGUMENT, b""),
    RPCError("who", RPCStatusCode.PERMISSION_DENIED, b""),
    RuntimeError("some bug"),
    KeyError("x"),
])
def test_other_errors_are_not_called_an_outage(err):
    assert unavailable(err) is None and as_unavailable(err) is None


def test_an_unavailable_error_keeps_its_retry_after_across_processes():
    err = pickle.loads(pickle.dumps(Unavailable("busy", "忙 / busy", retry_after=7)))
    assert err.retry_after == 7 and retry_headers(err) == {"Retry-After": "7"}
    assert retry_headers(Conflict("x", "y")) is None


def test_a_multipart_body_is_the_same_request_whatever_its_boundary():
    def body(boundary: str) -> bytes:
        return (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\nunit,grade\r\n--{boundary}--\r\n").encode()

    a = fingerprint("POST", "/x", b"", "multipart/form-data; boundary=aaa111", body("aaa111"))
    b = fingerprint("POST", "/x", b"", "multipart/form-data; boundary=bbb222", body("bbb222"))
    assert a == b
    assert a != fingerprint("POST", "/y", b"", "multipart/form-data; boundary=aaa111", body("aaa111"))
    assert fingerprint("POST", "/x", b"", "application/json", b'{"a":1}') != fingerprint("POST", "/x", b"", "application/json", b'{"a":2}')
