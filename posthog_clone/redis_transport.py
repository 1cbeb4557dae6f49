"""Celery's Redis transport, changed so that a worker killed at any instant loses no message.

kombu's Redis transport takes a message with BRPOP and only then records it as unacknowledged. A worker
killed between the two (or with the reply still in its socket buffer) loses the message, late ack or not.
Measured here: a worker SIGKILLed right after it took a message lost that message in about one run in three.

Here a message never leaves Redis unrecorded:
- taking it moves it atomically (BLMOVE / LMOVE) from the queue to the queue's in-flight list;
- recording it as unacknowledged removes it from the in-flight list in the same MULTI/EXEC;
- each restore sweep adopts whatever a crash stranded in an in-flight list into the unacknowledged set
  (one Lua script, atomic per item), and kombu's own restore redelivers it after the visibility timeout.
The cost of a crash is a redelivery, which ingestion's insert deduplication token makes a no-op.

A consumer that settles many messages at once (the Celery worker's ingestion batching) takes them in bulk
instead: ``Channel.take_many`` pops up to N messages and records each as unacknowledged in one Lua script
(atomic: no in-flight list is needed), ``ack_many`` forgets a batch's messages in one round trip and
``requeue_many`` puts back those it still holds, at the head of the queue, in the order they were taken.

BLMOVE reads one list, so with several queues a worker first takes from the first non-empty queue in
cycle order (one Lua script, ``_TAKE_FIRST``), and only after a pass finds all of them empty blocks on one
queue for at most ``MULTI_QUEUE_TIMEOUT`` seconds. Priorities are not supported (``priority_steps`` is
fixed to ``[0]``), nor is ``ack_emulation=False``.
``posthog_clone/celery.py`` makes it the transport of ``redis://`` and ``rediss://`` broker URLs.
"""

from __future__ import annotations

import logging
from time import monotonic, time

from kombu.transport import redis as kombu_redis
from kombu.transport import virtual
from kombu.utils.encoding import bytes_to_str
from kombu.utils.json import dumps, loads

logger = logging.getLogger(__name__)
MULTI_QUEUE_TIMEOUT = 0.2
SEP = kombu_redis.Channel.sep


def inflight_key(queue: str) -> str:
    """The list holding ``queue``'s messages between being taken and being recorded as unacknowledged."""
    return f"{queue}{SEP}inflight"


# KEYS: unacked hash, unacked index, then the in-flight lists. ARGV[1]: the time to record. An item that
# is not a kombu message with a string delivery tag is left where it is (checked before anything is written).
_ADOPT = """
local function text(value)
  if type(value) == 'string' then return value end
  return ''
end
local adopted = 0
for i = 3, #KEYS do
  for _, item in ipairs(redis.call('LRANGE', KEYS[i], 0, -1)) do
    local ok, message = pcall(cjson.decode, item)
    local props = ok and type(message) == 'table' and message['properties']
    local tag = type(props) == 'table' and props['delivery_tag']
    if type(tag) == 'string' and redis.call('LREM', KEYS[i], 1, item) == 1 then
      local info = props['delivery_info']
      if type(info) ~= 'table' then info = {} end
      local record = '[' .. item .. ',' .. cjson.encode(text(info['exchange'])) .. ','
        .. cjson.encode(text(info['routing_key'])) .. ']'
      redis.call('HSET', KEYS[1], tag, record)
      redis.call('ZADD', KEYS[2], ARGV[1], tag)
      adopted = adopted + 1
    end
  end
end
return adopted
"""

# KEYS: (queue, its in-flight list) pairs in cycle order. Moves the first available message; returns
# {pair index, item} or nil when every queue is empty.
_TAKE_FIRST = """
for i = 1, #KEYS, 2 do
  local item = redis.call('LMOVE', KEYS[i], KEYS[i + 1], 'RIGHT', 'LEFT')
  if item then return {(i + 1) / 2, item} end
end
return nil
"""


# KEYS: the queue, the unacked hash, the unacked index. ARGV[1]: how many messages at most, ARGV[2]: the
# time to record. Pops messages from the head (the right end) and records each kombu message (one with a
# string delivery tag) as unacknowledged as ``QoS.append`` does; returns the items, recorded or not.
_TAKE_MANY = """
local function text(value)
  if type(value) == 'string' then return value end
  return ''
end
local taken = {}
for _ = 1, tonumber(ARGV[1]) do
  local item = redis.call('RPOP', KEYS[1])
  if not item then break end
  local ok, message = pcall(cjson.decode, item)
  local props = ok and type(message) == 'table' and message['properties']
  local tag = type(props) == 'table' and props['delivery_tag']
  if type(tag) == 'string' then
    local info = props['delivery_info']
    if type(info) ~= 'table' then info = {} end
    local record = '[' .. item .. ',' .. cjson.encode(text(info['exchange'])) .. ','
      .. cjson.encode(text(info['routing_key'])) .. ']'
    redis.call('HSET', KEYS[2], tag, record)
    redis.call('ZADD', KEYS[3], ARGV[2], tag)
  end
  taken[#taken + 1] = item
end
return taken
"""

# KEYS: the queue, the unacked hash, the unacked index. ARGV: delivery tag and item pairs in the order they
# were taken. Each message still recorded as unacknowledged (not restored by a sweep meanwhile) goes back to
# the head of the queue, the first taken first again; returns how many went back.
_REQUEUE_MANY = """
local back = 0
for i = #ARGV - 1, 1, -2 do
  if redis.call('HDEL', KEYS[2], ARGV[i]) == 1 then
    redis.call('ZREM', KEYS[3], ARGV[i])
    redis.call('RPUSH', KEYS[1], ARGV[i + 1])
    back = back + 1
  end
end
return back
"""


class QoS(kombu_redis.QoS):
    def append(self, message, delivery_tag):
        taken = self.channel.taken.pop(delivery_tag, None)
        if taken is None:
            super().append(message, delivery_tag)
            return
        delivery = message.delivery_info
        record = dumps([message._raw, delivery["exchange"], delivery["routing_key"]])
        with self.pipe_or_acquire() as pipe:  # one transaction: recorded and out of the in-flight list
            pipe.zadd(self.unacked_index_key, {delivery_tag: time()}).hset(self.unacked_key, delivery_tag, record)
            pipe.lrem(taken[0], 1, taken[1]).execute()
        virtual.QoS.append(self, message, delivery_tag)

    def restore_visible(self, start=0, num=10, interval=10):
        if self._vrestore_count % (interval or 1) == 0:  # the same throttle as the sweep below
            self.adopt_stranded()
        return super().restore_visible(start=start, num=num, interval=interval)

    def adopt_stranded(self) -> int:
        """Record messages stranded in in-flight lists (their taker died) as unacknowledged now."""
        keys = [inflight_key(q) for q in self.channel.active_queues]
        if not keys:
            return 0
        with self.channel.conn_or_acquire() as client:
            try:
                return client.eval(_ADOPT, 2 + len(keys), self.unacked_key, self.unacked_index_key, *keys, time())
            except self.channel.ResponseError:  # e.g. scripts refused: kombu's own restore still runs
                logger.warning("adopting stranded messages failed", exc_info=True)
                return 0


class Channel(kombu_redis.Channel):
    QoS = QoS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.global_keyprefix or not self.ack_emulation:
            raise ValueError("posthog_clone's Redis transport needs ack_emulation and no global_keyprefix")
        self.priority_steps = [0]
        self.taken: dict[str, tuple[str, bytes]] = {}  # delivery tag -> (in-flight list, raw item)
        self._taking: list[str] = []  # the queues of the take command in flight (one: BLMOVE, more: Lua)
        self._blocking_next = False  # after a pass that found every queue empty, block on one
        self._noack_queues: set[str] = set()

    def _take(self, queue: str, item: bytes) -> dict:
        payload = loads(bytes_to_str(item))
        if queue in self._noack_queues:  # nothing will acknowledge it: it is consumed now
            self._release(inflight_key(queue), item)
        else:
            self.taken[payload["properties"]["delivery_tag"]] = (inflight_key(queue), item)
        return payload

    def _release(self, inflight: str, item: bytes) -> None:
        """Drop a no-ack message from its in-flight list: nothing will record or acknowledge it."""
        with self.conn_or_acquire() as client:
            client.lrem(inflight, 1, item)

    def basic_consume(self, queue, no_ack, *args, **kwargs):
        if no_ack:
            self._noack_queues.add(queue)
        return super().basic_consume(queue, no_ack, *args, **kwargs)

    def basic_cancel(self, consumer_tag):
        queue = self._tag_to_queue.get(consumer_tag)
        self._noack_queues.discard(queue)
        return super().basic_cancel(consumer_tag)

    def basic_get(self, queue, no_ack=False, **kwargs):
        message = super().basic_get(queue, no_ack=no_ack, **kwargs)
        if message is not None and no_ack:
            taken = self.taken.pop(message.delivery_tag, None)
            if taken is not None:
                self._release(*taken)
        return message

    def take_many(self, queue: str, limit: int) -> list[bytes]:
        """Up to ``limit`` messages from the head of ``queue``, each recorded as unacknowledged in the same
        atomic step (a taker killed at any moment leaves them to the visibility-timeout restore). The caller
        settles them with ``ack_many`` or ``requeue_many``; kombu's own QoS does not know them."""
        with self.conn_or_acquire() as client:
            return client.eval(_TAKE_MANY, 3, queue, self.unacked_key, self.unacked_index_key, limit, time())

    def ack_many(self, tags: list[str]) -> None:
        """Forget messages taken by ``take_many``: one round trip for a batch."""
        if tags:
            with self.conn_or_acquire() as client:
                client.pipeline().zrem(self.unacked_index_key, *tags).hdel(self.unacked_key, *tags).execute()

    def requeue_many(self, queue: str, taken: list[tuple[str, bytes]]) -> int:
        """Put (delivery tag, item) pairs taken by ``take_many`` back at the head of ``queue``, in taking order
        (items may be re-encoded, e.g. marked redelivered); those a sweep already restored stay where they are."""
        if not taken:
            return 0
        args = [value for pair in taken for value in pair]
        with self.conn_or_acquire() as client:
            return client.eval(_REQUEUE_MANY, 3, queue, self.unacked_key, self.unacked_index_key, *args)

    def _get(self, queue):
        with self.conn_or_acquire() as client:
            item = client.lmove(queue, inflight_key(queue), "RIGHT", "LEFT")
            self._maybe_update_queues_expire(client, queue)
        if item is None:
            raise kombu_redis.Empty()
        return self._take(queue, item)

    def _brpop_start(self, timeout=None):
        queues = self._queue_cycle.consume(len(self.active_queues))
        if not queues:
            return
        timeout = self.brpop_timeout if timeout is None else timeout
        if len(queues) == 1 or self._blocking_next:
            if len(queues) > 1:
                timeout = min(timeout or MULTI_QUEUE_TIMEOUT, MULTI_QUEUE_TIMEOUT)
            self._taking = queues[:1]
            command = ["BLMOVE", queues[0], inflight_key(queues[0]), "RIGHT", "LEFT", timeout or 0]
        else:
            self._taking = list(queues)
            keys = [key for queue in queues for key in (queue, inflight_key(queue))]
            command = ["EVAL", _TAKE_FIRST, len(keys), *keys]
        self._in_poll = self.client.connection
        self._brpop_sent_at = monotonic()
        self.client.connection.send_command(*command)

    def _brpop_read(self, **options):
        queues = self._taking
        try:
            try:
                reply = self.client.parse_response(self.client.connection, "BLMOVE", **options)
            except self.connection_errors:
                self.client.connection.disconnect()
                raise
            if len(queues) > 1:  # the Lua pass: [position, item] or nothing
                self._blocking_next = reply is None
                queue, item = (None, None) if reply is None else (queues[int(reply[0]) - 1], reply[1])
            else:
                self._blocking_next = False
                queue, item = queues[0], reply
            if queue is not None:  # taken from or waited on: the next take starts at the next queue
                self._queue_cycle.rotate(queue)
            if item is None:
                raise kombu_redis.Empty()
            self.connection._deliver(self._take(queue, item), queue)
            return True
        finally:
            self._in_poll = None
            self._flush_brpop_reauth()


class Transport(kombu_redis.Transport):
    Channel = Channel
