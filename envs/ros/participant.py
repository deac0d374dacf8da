"""rclpy plumbing shared by the client env and the reference skill server: one ROS node in its own
:class:`rclpy.Context`, spun by a background thread, with JSON-over-``std_msgs/String`` endpoints.

rclpy is imported here, on first use, and only here: a missing install becomes one
:class:`RosNotInstalledError` naming the ``ros`` extra. Its objects are handled as ``Any`` on purpose:
robomem's type check must pass whether or not the extra is installed.

A context per participant (instead of ``rclpy.init()`` on the global one) lets a process open and close
several clients, and installs no signal handlers behind the host program's back.
"""

from __future__ import annotations

import base64
import importlib
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from envs.ros.contract import encode
from robomem.errors import ErrorCode, RobomemError

__all__ = ("Participant", "QosKind", "RosNotInstalledError", "load_rclpy")

#: ``command``: reliable, volatile, keep 50 (requests, responses, cancel, stop);
#: ``latched``: reliable, transient local, keep 1 (describe, perception: a late joiner gets the last one);
#: ``stream``: best effort, volatile, keep 1 (heartbeat, camera: only the newest matters).
QosKind = Literal["command", "latched", "stream"]

_INSTALL_HINT = "install the ros extra: pip install 'robomem[ros]' (or `make ros`), or source a ROS 2 install"
_SPIN_PERIOD_S = 0.05


class RosNotInstalledError(RobomemError):
    """rclpy (ROS 2's Python client) or a standard message package cannot be imported."""

    code = ErrorCode.INSTALL


@dataclass(frozen=True)
class _Rclpy:
    rclpy: Any
    Context: Any
    SingleThreadedExecutor: Any
    QoSProfile: Any
    DurabilityPolicy: Any
    ReliabilityPolicy: Any
    HistoryPolicy: Any
    Duration: Any
    String: Any
    CompressedImage: Any


_loaded: _Rclpy | None = None


def load_rclpy() -> _Rclpy:
    """Import rclpy and the message types once; raise :class:`RosNotInstalledError` when missing."""
    global _loaded
    if _loaded is None:
        try:
            with warnings.catch_warnings():
                # rclpy imports message type support lazily, through rosidl_parser's old `lark-parser`,
                # which imports the deprecated `sre_parse`: import it now, quietly, once.
                warnings.simplefilter("ignore", DeprecationWarning)
                importlib.import_module("rosidl_generator_py")
            rclpy = importlib.import_module("rclpy")
            executors = importlib.import_module("rclpy.executors")
            qos = importlib.import_module("rclpy.qos")
            duration = importlib.import_module("rclpy.duration")
            context = importlib.import_module("rclpy.context")
            std_msgs = importlib.import_module("std_msgs.msg")
            sensor_msgs = importlib.import_module("sensor_msgs.msg")
        except (ImportError, OSError) as err:
            missing = getattr(err, "name", None) or str(err)
            raise RosNotInstalledError(
                f"ROS 2 for Python is not available ({missing})", hint=_INSTALL_HINT
            ) from None
        _loaded = _Rclpy(
            rclpy=rclpy,
            Context=context.Context,
            SingleThreadedExecutor=executors.SingleThreadedExecutor,
            QoSProfile=qos.QoSProfile,
            DurabilityPolicy=qos.DurabilityPolicy,
            ReliabilityPolicy=qos.ReliabilityPolicy,
            HistoryPolicy=qos.HistoryPolicy,
            Duration=duration.Duration,
            String=std_msgs.String,
            CompressedImage=sensor_msgs.CompressedImage,
        )
    return _loaded


class JsonPublisher:
    def __init__(self, ros: _Rclpy, publisher: Any) -> None:
        self._ros = ros
        self._publisher = publisher

    def publish(self, message: BaseModel) -> None:
        msg = self._ros.String()
        msg.data = encode(message)
        self._publisher.publish(msg)

    def subscribers(self) -> int:
        return int(self._publisher.get_subscription_count())

    def wait_acked(self, timeout_s: float) -> bool:
        """Block until every matched reliable reader acknowledged what was published (or timeout)."""
        return bool(self._publisher.wait_for_all_acked(self._ros.Duration(nanoseconds=int(timeout_s * 1e9))))


class JsonSubscription:
    def __init__(self, subscription: Any) -> None:
        self._subscription = subscription

    def publishers(self) -> int:
        """How many publishers this subscription has matched (as seen from this side)."""
        return int(self._subscription.get_publisher_count())


class ImagePublisher:
    def __init__(self, ros: _Rclpy, publisher: Any) -> None:
        self._ros = ros
        self._publisher = publisher

    def publish(self, data: bytes, fmt: str = "png") -> None:
        msg = self._ros.CompressedImage()
        msg.format = fmt
        msg.data = data
        self._publisher.publish(msg)


class Participant:
    """One node named ``name`` under ``namespace`` in domain ``domain_id`` (``None``: ``$ROS_DOMAIN_ID``).

    Callbacks run on the spin thread; keep them short and hand work to other threads."""

    def __init__(self, name: str, namespace: str, domain_id: int | None) -> None:
        self.ros = ros = load_rclpy()
        self._context = ros.Context()
        ros.rclpy.init(context=self._context, domain_id=domain_id)
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        try:
            self.node = ros.rclpy.create_node(name, namespace=namespace, context=self._context)
            self._executor = ros.SingleThreadedExecutor(context=self._context)
            self._executor.add_node(self.node)
        except BaseException:
            ros.rclpy.try_shutdown(context=self._context)
            raise

    def start(self) -> None:
        """Start spinning (after every endpoint is created)."""
        self._thread = threading.Thread(target=self._spin, name=f"ros-{self.node.get_name()}", daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        while not self._closing.is_set() and self._context.ok():
            self._executor.spin_once(timeout_sec=_SPIN_PERIOD_S)

    def qos(self, kind: QosKind) -> Any:
        ros = self.ros
        reliable = kind != "stream"
        return ros.QoSProfile(
            history=ros.HistoryPolicy.KEEP_LAST,
            depth=50 if kind == "command" else 1,
            reliability=ros.ReliabilityPolicy.RELIABLE if reliable else ros.ReliabilityPolicy.BEST_EFFORT,
            durability=(
                ros.DurabilityPolicy.TRANSIENT_LOCAL if kind == "latched" else ros.DurabilityPolicy.VOLATILE
            ),
        )

    def json_publisher(self, topic: str, kind: QosKind) -> JsonPublisher:
        return JsonPublisher(self.ros, self.node.create_publisher(self.ros.String, topic, self.qos(kind)))

    def json_subscription(
        self, topic: str, kind: QosKind, callback: Callable[[str], None]
    ) -> JsonSubscription:
        def on_message(msg: Any) -> None:
            callback(str(msg.data))

        return JsonSubscription(
            self.node.create_subscription(self.ros.String, topic, on_message, self.qos(kind))
        )

    def image_publisher(self, topic: str) -> ImagePublisher:
        return ImagePublisher(
            self.ros, self.node.create_publisher(self.ros.CompressedImage, topic, self.qos("stream"))
        )

    def image_subscription(self, topic: str, callback: Callable[[str], None]) -> None:
        """``callback`` receives the frame as :class:`envs.base.Observation` carries it: base64 for a PNG, a
        ``data:image/jpeg;base64,...`` URL for a JPEG (``format`` names it, as in sensor_msgs), so an LLM is
        told the right type."""

        def on_message(msg: Any) -> None:
            data = base64.b64encode(bytes(msg.data)).decode("ascii")
            fmt = str(msg.format).lower()
            callback(f"data:image/jpeg;base64,{data}" if "jpeg" in fmt or "jpg" in fmt else data)

        self.node.create_subscription(self.ros.CompressedImage, topic, on_message, self.qos("stream"))

    def create_timer(self, period_s: float, callback: Callable[[], None]) -> None:
        self.node.create_timer(period_s, callback)

    def close(self) -> None:
        """Stop spinning, destroy the node, shut the context down. Safe to call twice."""
        if self._closing.is_set():
            return
        self._closing.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        try:
            self._executor.shutdown(timeout_sec=1.0)
            self.node.destroy_node()
        finally:
            self.ros.rclpy.try_shutdown(context=self._context)
