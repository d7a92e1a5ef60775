"""MQTT subscriber for OwnTracks (`haven telemetry listen`).

QoS 1 with a persistent session (fixed client id, clean_session off): while the listener is
down the broker keeps what it accepted, and a message is acknowledged only after it is stored
(manual PUBACK), so nothing the broker delivered is lost; storing is idempotent, so redelivery
is harmless. Reconnects back off from 1 s to 60 s.

One listener process stores a few thousand messages a second. For more, run several with the
same --share group (each with its own client id): the broker then hands each message of the
shared subscription ($share/<group>/<topic>) to one of them. A device's fixes may then be
stored by two processes at once; the device row lock orders them, and a fix that arrives
after a newer one is handled as late, as any out-of-order fix is. (On PostgreSQL: SQLite takes
one writer at a time.)

The broker must hold enough for a listener that is busy committing: Mosquitto's defaults
(max_queued_messages 1000, max_inflight_messages 20) drop QoS 1 messages for a slow
subscriber beyond them. deploy/mosquitto.conf has the settings Haven needs.

paho delivers messages one at a time on its network thread. That thread only parses; a
BatchWriter stores whatever has arrived in one transaction, and each message is acknowledged
from the writer thread after the commit. A message whose batch failed stays unacknowledged:
the broker delivers it again when the session resumes.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

import paho.mqtt.client as mqtt
from django.utils import timezone

from . import receivers, services
from .batching import BatchWriter, StoreFailed
from .protocols import Message

log = logging.getLogger("haven.telemetry.mqtt")

DEFAULT_TOPIC = "owntracks/#"
RETRY_FIRST_S = 0.5  # a failed batch's messages are stored again after this, doubling...
RETRY_MAX_S = 30.0  # ...up to this


class Listener:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 1883,
        topic: str = DEFAULT_TOPIC,
        share: str = "",
        client_id: str = "haven-telemetry",
        persistent: bool = True,
        on_stored: Callable[[str, receivers.Reply], None] | None = None,
        writer: BatchWriter | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.topic = f"$share/{share}/{topic}" if share else topic
        self.counts: Counter[str] = Counter()
        self._counts_lock = threading.Lock()  # counted from the network and writer threads
        self.on_stored = on_stored
        self.writer = writer or BatchWriter()
        self.subscribed = threading.Event()
        self._stopping = threading.Event()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=not persistent,
            manual_ack=True,
        )
        self.client.reconnect_delay_set(min_delay=1, max_delay=60)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.on_disconnect = self._on_disconnect

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("MQTT connection refused: %s", reason)
            return
        log.info("MQTT connected to %s:%s, subscribing to %s", self.host, self.port, self.topic)
        client.subscribe(self.topic, qos=1)

    def _on_subscribe(
        self, client: mqtt.Client, userdata: Any, mid: int, reasons: list[Any], props: Any
    ) -> None:
        """The broker has the subscription (SUBACK): from now on nothing published is missed."""
        if any(getattr(reason, "is_failure", False) for reason in reasons):
            log.error("MQTT subscription to %s refused: %s", self.topic, reasons)
            return
        self.subscribed.set()

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        self.subscribed.clear()
        log.warning("MQTT disconnected (%s); reconnecting with back-off", reason)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        now = timezone.now()
        parsed = receivers.parse_mqtt(message.topic, message.payload, now)
        if isinstance(parsed, receivers.Reply):
            self._done(message, parsed)  # refused or ignored: nothing to store, ack now
            return
        parsed.back_pressure = True  # unacknowledged, the broker holds the rest back
        self._submit(message, parsed, now, 0)

    def _submit(
        self, message: mqtt.MQTTMessage, parsed: Message, now: dt.datetime, attempt: int
    ) -> None:
        self.writer.submit_with(parsed, now, partial(self._stored, message, parsed, now, attempt))

    def _stored(
        self,
        message: mqtt.MQTTMessage,
        parsed: Message,
        now: dt.datetime,
        attempt: int,
        outcome: services.Outcome | None,
        error: StoreFailed | None,
    ) -> None:
        """On the writer thread, after its batch committed (or failed). A failed message is
        not acknowledged and is stored again after a back-off, in this session: a broker
        redelivers an unacknowledged message only when the session resumes."""
        if error is not None or outcome is None:
            self._count("unstored")
            if self._stopping.is_set() or self.writer.closed:
                # No PUBACK: the broker delivers it again in the next session. A stopped
                # writer would fail every retry, and the retries would outlive the listener.
                return
            delay = min(RETRY_MAX_S, RETRY_FIRST_S * 2**attempt)
            log.warning("MQTT message not stored (%s); retrying in %.1f s", error, delay)
            retry = threading.Timer(delay, self._submit, (message, parsed, now, attempt + 1))
            retry.daemon = True
            retry.start()
            return
        self._done(message, receivers.owntracks_reply(outcome, receivers.Reply(200)))

    def _done(self, message: mqtt.MQTTMessage, reply: receivers.Reply) -> None:
        self._count(reply.reason or "stored")
        self.client.ack(message.mid, message.qos)
        if self.on_stored:
            self.on_stored(message.topic, reply)

    def _count(self, reason: str) -> None:
        with self._counts_lock:
            self.counts[reason] += 1

    def start(self) -> None:
        """Connect and run the network loop in a background thread."""
        self.writer.start()
        self.client.connect_async(self.host, self.port, keepalive=30)
        self.client.loop_start()

    def run_forever(self) -> None:
        self.writer.start()
        self.client.connect_async(self.host, self.port, keepalive=30)
        try:
            self.client.loop_forever(retry_first_connection=True)
        finally:
            self._stopping.set()
            self.writer.stop()

    def stop(self) -> None:
        """Store and acknowledge what has arrived, then disconnect."""
        self._stopping.set()
        self.writer.stop()
        self.client.disconnect()
        self.client.loop_stop()
