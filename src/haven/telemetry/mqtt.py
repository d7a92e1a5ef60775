"""MQTT subscriber for OwnTracks (`haven telemetry listen`).

QoS 1 with a persistent session (fixed client id, clean_session off): while the listener is
down the broker keeps what it accepted, and a message is acknowledged only after it is stored
(manual PUBACK), so nothing the broker delivered is lost; storing is idempotent, so redelivery
is harmless. Reconnects back off from 1 s to 60 s.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from django.db import close_old_connections

from . import receivers

log = logging.getLogger("haven.telemetry.mqtt")

DEFAULT_TOPIC = "owntracks/#"


class Listener:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 1883,
        topic: str = DEFAULT_TOPIC,
        client_id: str = "haven-telemetry",
        persistent: bool = True,
        on_stored: Callable[[str, receivers.Reply], None] | None = None,
    ) -> None:
        self.host, self.port, self.topic = host, port, topic
        self.counts: Counter[str] = Counter()
        self.on_stored = on_stored
        self.subscribed = threading.Event()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=not persistent,
            manual_ack=True,
        )
        self.client.reconnect_delay_set(min_delay=1, max_delay=60)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_disconnect = self._on_disconnect

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("MQTT connection refused: %s", reason)
            return
        log.info("MQTT connected to %s:%s, subscribing to %s", self.host, self.port, self.topic)
        client.subscribe(self.topic, qos=1)
        self.subscribed.set()

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        self.subscribed.clear()
        log.warning("MQTT disconnected (%s); reconnecting with back-off", reason)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        close_old_connections()
        reply = receivers.safely(lambda: receivers.receive_mqtt(message.topic, message.payload))
        if reply.status == 503:
            # Not stored: leave it unacknowledged so the broker delivers it again.
            self.counts["unstored"] += 1
            return
        self.counts[reply.reason or "stored"] += 1
        client.ack(message.mid, message.qos)
        if self.on_stored:
            self.on_stored(message.topic, reply)

    def start(self) -> None:
        """Connect and run the network loop in a background thread."""
        self.client.connect_async(self.host, self.port, keepalive=30)
        self.client.loop_start()

    def run_forever(self) -> None:
        self.client.connect_async(self.host, self.port, keepalive=30)
        self.client.loop_forever(retry_first_connection=True)

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
