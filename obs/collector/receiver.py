"""One OTLP export, whichever transport brought it: decoded, read into records, stored, answered.

The transports (``server``) only move bytes; ``Receiver.export`` does the rest and answers only once every record
of the export is stored or spooled (the recorder's flush), so an exporter that got a success never needs to send
again, and one that retries after a failure stores nothing twice (a span's id is its record's primary key).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import zlib
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from obs import config
from obs.capture.otlp.spans import read_export
from obs.recorder.queue import Recorder

PROTOBUF = "application/x-protobuf"
JSON = "application/json"


class BadRequest(Exception):
    """The export cannot be read; the message says what was wrong (400 / INVALID_ARGUMENT)."""


class TooLarge(Exception):
    """The body is over the limit (413 / RESOURCE_EXHAUSTED)."""


class NotStored(Exception):
    """The records were not stored or spooled in time; the exporter should retry (503 / UNAVAILABLE)."""


@dataclass(frozen=True, slots=True)
class Exported:
    """The OTLP answer to an export, and how many spans it took and refused."""

    response: ExportTraceServiceResponse
    accepted: int
    rejected: int

    def encoded(self, *, as_json: bool) -> tuple[bytes, str]:
        """The answer's body and content type, in the format the request came in."""
        if as_json:
            return json_format.MessageToJson(self.response).encode(), JSON
        return self.response.SerializeToString(), PROTOBUF


class Receiver:
    """Reads exports into the recorder; one per collector, shared by its transports and threads."""

    def __init__(self, recorder: Recorder, *, token: str | None = None,
                 max_body: int = config.COLLECTOR_MAX_BODY_BYTES) -> None:  # fmt: skip
        self.recorder = recorder
        self._token = token.encode() if token else None
        self.max_body = max_body

    def authorized(self, header: str | None) -> bool:
        """A request's ``Authorization`` header carries the bearer token (constant-time compare), or none is
        needed."""
        if self._token is None:
            return True
        given = (header or "").removeprefix("Bearer ").strip().encode()
        return hmac.compare_digest(given, self._token)

    def decode(self, body: bytes, content_type: str | None, encoding: str | None) -> ExportTraceServiceRequest:
        """The export a request body holds (gzip or deflate, protobuf or JSON); BadRequest / TooLarge otherwise."""
        body = self._inflate(body, (encoding or "identity").lower().strip())
        kind = (content_type or PROTOBUF).split(";", 1)[0].strip().lower()
        request = ExportTraceServiceRequest()
        if kind == JSON:
            try:
                json_format.ParseDict(_ids_as_base64(json.loads(body)), request, ignore_unknown_fields=True)
            except (json_format.ParseError, UnicodeDecodeError, ValueError, TypeError, AttributeError) as exc:
                raise BadRequest(f"not an OTLP/JSON ExportTraceServiceRequest: {exc}") from None
        elif kind in {PROTOBUF, "application/protobuf"}:
            try:
                request.ParseFromString(body)
            except DecodeError as exc:
                raise BadRequest(f"not an OTLP protobuf ExportTraceServiceRequest: {exc}") from None
        else:
            raise BadRequest(f"unsupported content type {kind!r}: send {PROTOBUF} or {JSON}")
        return request

    def export(self, request: ExportTraceServiceRequest) -> Exported:
        """Store an export's records; the OTLP answer (partial success when some spans were refused)."""
        read = read_export(request, self.recorder.enqueue)
        if read.records and not self.recorder.flush(config.COLLECTOR_STORE_TIMEOUT_S):
            raise NotStored(f"the store did not take the spans within {config.COLLECTOR_STORE_TIMEOUT_S:g} s")
        response = ExportTraceServiceResponse()
        if read.rejected:
            response.partial_success.CopyFrom(
                ExportTracePartialSuccess(rejected_spans=read.rejected, error_message=read.error_message())
            )
        return Exported(response, len(read.records), read.rejected)

    def _inflate(self, body: bytes, encoding: str) -> bytes:
        if encoding in {"identity", ""}:
            return body
        if encoding not in {"gzip", "deflate"}:
            raise BadRequest(f"unsupported content encoding {encoding!r}: send gzip, deflate or none")
        # Read at most the limit (and one byte more, to know it was over): a small bomb cannot fill the memory.
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)
        try:
            out = inflater.decompress(body, self.max_body + 1)
        except zlib.error as exc:
            raise BadRequest(f"the body is not valid {encoding}: {exc}") from None
        if len(out) > self.max_body:
            raise TooLarge(f"the body inflates to more than {self.max_body:,} bytes")
        return out


#: The fields OTLP/JSON writes as hex, where protobuf's JSON mapping (which ``json_format`` reads) wants base64.
_ID_FIELDS = ("traceId", "spanId", "parentSpanId")


def _ids_as_base64(export: Any) -> Any:
    """OTLP/JSON's ids are hex strings (the spec's one exception to protobuf's JSON mapping): make them base64."""
    for resource in export.get("resourceSpans") or () if isinstance(export, dict) else ():
        for scope in resource.get("scopeSpans") or ():
            for span in scope.get("spans") or ():
                for holder in (span, *(span.get("links") or ())):
                    for key in _ID_FIELDS:
                        if isinstance(holder.get(key), str):
                            holder[key] = _base64(holder[key])
    return export


def _base64(text: str) -> str:
    try:
        return base64.b64encode(bytes.fromhex(text)).decode()
    except ValueError:
        try:
            base64.b64decode(text, validate=True)  # an exporter that wrote base64 after all
            return text
        except binascii.Error:
            raise BadRequest(f"an id is neither hex nor base64: {text[:40]!r}") from None
