"""The near cache: a per-process SimpleMooncake kept coherent with the server.

Entries are keyed by the plain cache key (``keys.plain_key``: what
``keys.decode_name`` makes of a server key), so a near hit needs no key
encoding; the methods here take server keys (names) and convert. Without the
namespace in them, an engine can serve one NearCache only, and it must start
empty (``check_engine``). Entries are trusted only while a listener (see
``listener``) is tracking the namespace on every master node.

Implementation notes:

* Trust. ``trusted`` is True only while every node's listener confirmed
  tracking and none has failed since. Whenever coherence is in doubt (a
  listener lost, a heartbeat unanswered, a null invalidation, the set of
  masters changed, a fork) the near cache is flushed and ``trusted`` drops to
  False: reads bypass it until a background thread has tracking back.
* The fill race. A remote read takes a ``token`` before it sends the command:
  the flush generation and the counter of the key's stripe. Every
  invalidation bumps its key's stripe (every flush the generation) under the
  same lock that ``fill`` holds while it compares the token, so a value read
  before an invalidation that was handled before the fill is discarded; an
  invalidation handled after the fill deletes it. Either way no value
  survives the invalidation of its key.
* Strict reads call ``drain()`` first: whatever invalidations the kernel
  already holds for the listeners are applied before the near hit is served.
* Backlogs. While a listener may have pushes waiting in the server's output
  buffer (``NodeListener.behind``: a burst larger than a socket buffer), no
  near hit is served, strict or not; the listener's fence tells when it has
  caught up. So a burst costs remote reads for a round trip, never a stale hit.
"""

import os
import select
import threading
import time
import weakref

from .keys import decode_name
from .listener import FLUSH, ListenerLost, NodeListener, node_address, node_host_port

_STRIPES = 256  # a power of two
#: Seconds between heartbeat PINGs on each listener, and how long an answer may take.
HEARTBEAT_INTERVAL = 1.0
HEARTBEAT_TIMEOUT = 2.0
_RETRY_FIRST, _RETRY_MOST = 0.02, 1.0

_live = weakref.WeakSet()

# The NearCache each engine serves, by the engine's id (checked against its
# ``engine``, so a reused id is never mistaken for a live owner).
_owners = weakref.WeakValueDictionary()
_owners_lock = threading.Lock()


def check_engine(engine):
    """ValueError unless ``engine`` may become a near cache: one cache's only (its
    entries are keyed without the namespace) and empty (nothing would ever
    invalidate what it already holds)."""
    owner = _owners.get(id(engine))
    if owner is not None and owner.engine is engine:
        raise ValueError(
            f"this SimpleMooncake is already the near cache of a SharedMooncake (namespace "
            f"{owner._prefix.decode('utf-8', 'replace')!r}); its entries are keyed without the "
            f"namespace, so give each SharedMooncake its own (or close() the other first)")
    if len(engine):
        raise ValueError(
            f"near= must be an empty SimpleMooncake: it holds {len(engine)} entries that no "
            f"invalidation would ever reach")


def _after_fork_in_child():
    for near in list(_live):
        near._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class NearCache:
    """A SimpleMooncake in front of the server, with the listeners that keep it honest.

    ``engine``: the SimpleMooncake holding the entries. ``connection``: a sync
    Connection to the cache's server (for the master nodes; an async cache
    makes one for this alone). ``prefix``: the namespace (bytes).
    ``near_ttl``: the longest a value may stay. ``counters``: the owning
    cache's stats.Counters. ``on_invalidate``: callables told of every batch
    of invalidated names (single flight's waiters).
    """

    def __init__(self, engine, connection, prefix, near_ttl, strict, counters, listen_timeout,
                 start=True):
        self.engine = engine
        self._prefix = prefix
        with _owners_lock:
            check_engine(engine)  # again: another cache may have taken it meanwhile
            _owners[id(engine)] = self
        self.near_ttl = near_ttl
        self.strict = strict
        self._trusted = False
        self._behind = False   # a listener may not have read all the server sent
        self.fronts = []  # the NearFronts serving hits (a sync and an async shell's): told when trust changes
        self._connection = connection
        self._counters = counters
        self._listen_timeout = listen_timeout
        self._lock = threading.Lock()       # trust, generation, stripes, fills
        self._io_lock = threading.Lock()    # the listeners' sockets
        self._generation = 0
        self._stripes = [0] * _STRIPES
        self._listeners = []
        self._poller = self._thread_poller = None
        self._stop = threading.Event()
        self._addresses = frozenset()
        self._topology_stale = False
        self.on_invalidate = []  # callables told of every batch of invalidated names
        self._pid = os.getpid()
        self._thread = None
        self._closed = False
        _live.add(self)
        if start:
            self._start_thread()

    def start(self):
        """Start the listener thread, if it is not running (``start=False`` at
        construction: an async cache starts it when it first connects)."""
        if self._thread is None and not self._closed:
            with self._lock:
                if self._thread is None:
                    self._start_thread()

    @property
    def trusted(self):
        """True while tracking is confirmed on every master and no listener is
        behind (set under ``_lock``): near hits may be served."""
        return self._trusted and not self._behind

    @trusted.setter
    def trusted(self, value):
        self._trusted = value
        for front in self.fronts:
            front.trusted = value and not self._behind

    def _set_behind(self, behind):
        with self._lock:
            self._behind = behind
            self.trusted = self._trusted  # tells the front

    def attach(self, front):
        """Let ``front`` (a NearFront) serve hits while the near cache is trusted."""
        with self._io_lock:
            front.set_listeners([listener.sock.fileno() for listener in self._listeners])
            with self._lock:
                self.fronts.append(front)
                front.trusted = self._trusted and not self._behind

    @property
    def front(self):
        """The first NearFront: counts the near hits the Python paths serve."""
        return self.fronts[0]

    @property
    def near_hits(self):
        return sum(front.near_hits for front in self.fronts)

    def _local(self, name):
        """The near cache's key for a server key (None for a helper key)."""
        return decode_name(self._prefix, name)

    # -- reads and fills ---------------------------------------------------

    def token(self, name):
        """Taken before a remote read of ``name``; None while the near cache is bypassed."""
        if not self.trusted:
            self.start()  # a forked child's first remote read
            return None
        return (self._generation, self._stripes[hash(self._local(name)) & (_STRIPES - 1)])

    def fill(self, name, value, token, seconds):
        """Keep ``value`` for ``seconds`` (capped at near_ttl) unless an invalidation
        of ``name`` or a flush came after ``token`` was taken; False if discarded,
        or if the engine refused the value (its ``getsizeof`` raised: counted
        in ``fills_failed``; the near cache is an optimisation, the read that
        brought the value still returns it)."""
        if token is None:
            return False
        seconds = min(seconds, self.near_ttl)
        key = self._local(name)
        if self._connection.is_cluster and not self._covers(name):
            # The key's master is not one we listen to (a MOVED, a failover the
            # heartbeat has not seen yet): nothing would invalidate this fill.
            self._counters.add("fills_discarded")
            self._lose(ListenerLost("a key lives on a master without a listener"))
            return False
        failed = False
        with self._lock:
            if (not self._trusted or self._behind or token[0] != self._generation
                    or token[1] != self._stripes[hash(key) & (_STRIPES - 1)]):
                discarded = True
            else:
                discarded = False
                if seconds > 0 and key is not None:
                    try:
                        self.engine.put(key, value, seconds)
                    except Exception:
                        failed = True
        if discarded:
            self._counters.add("fills_discarded")
            return False
        if failed:
            self._counters.add("fills_failed")
            return False
        return True

    def drain(self):
        """Apply the invalidations already received (a strict read's first step).
        Takes the listeners' lock even when nothing is waiting: the background
        thread may be applying a batch it already took off the socket."""
        with self._io_lock:
            poller = self._poller
            if poller is None or not poller.poll(0):
                return
            lost = self._apply_locked()
        if lost is not None:
            self._lose(lost)

    # -- invalidation ------------------------------------------------------

    def drop(self, name):
        """Our own write or delete of ``name``: drop it, and any fill racing it."""
        self.drop_many((name,))

    def drop_many(self, names):
        keys = [self._local(name) for name in names]
        with self._lock:
            stripes, delete = self._stripes, self.engine.delete
            for key in keys:
                stripes[hash(key) & (_STRIPES - 1)] += 1
                if key is not None:
                    delete(key)

    def flush(self, distrust=False):
        """Drop every entry (and every fill in flight); with ``distrust``, bypass
        the near cache until tracking is confirmed again."""
        with self._lock:
            if distrust:
                self.trusted = False
            self._generation += 1
            self.engine.clear()
        self._counters.add("flushes")

    def _invalidate(self, names):
        self.drop_many(names)
        self._counters.add("invalidations", len(names))
        for hook in self.on_invalidate:
            hook(names)

    # -- the listeners -----------------------------------------------------

    def _start_thread(self):
        self._thread = threading.Thread(target=_listen, args=(weakref.ref(self), self._stop),
                                        name="mooncake-near-listener", daemon=True)
        self._thread.start()

    def _connect_all(self):
        """Listeners on every master node; trusted once all confirmed tracking."""
        if self._topology_stale:
            self._refresh_topology()
            self._topology_stale = False
        addresses = [node_address(node) for node in self._connection.primaries()]
        listeners = []
        try:
            for address in addresses:
                listeners.append(NodeListener(address, self._prefix, self._listen_timeout).connect())
        except ListenerLost:
            for listener in listeners:
                listener.close()
            raise
        # Two pollers: a poll object refuses to be polled by two threads at once.
        poller, thread_poller = select.poll(), select.poll()
        for listener in listeners:
            poller.register(listener.sock, select.POLLIN)
            thread_poller.register(listener.sock, select.POLLIN)
        with self._io_lock:
            if self._stop.is_set():  # closed while we were connecting
                for listener in listeners:
                    listener.close()
                return
            self._listeners = listeners
            self._behind = False
            self._addresses = {address[:2] for address in addresses}
            self._poller, self._thread_poller = poller, thread_poller
            for front in self.fronts:
                front.set_listeners([listener.sock.fileno() for listener in listeners])
            with self._lock:
                self._generation += 1  # nothing read before tracking started may be filled
                self.trusted = True

    def _lose(self, reason):
        """A listener failed: flush, distrust, close every listener. The next
        connect asks a Cluster who its masters are first (a node that stopped
        being one, or went silent, may have been replaced)."""
        self.flush(distrust=True)
        with self._io_lock:
            listeners, self._listeners, self._poller = self._listeners, [], None
            self._thread_poller = None
            self._topology_stale = True
        for listener in listeners:
            listener.close()

    def _read_listeners(self):
        """Drain every listener and apply what came; a failure loses them all."""
        with self._io_lock:
            lost = self._apply_locked()
        if lost is not None:
            self._lose(lost)

    def _apply_locked(self):
        """With the io lock held: read and apply every listener's messages, so
        that nobody sees the socket empty while a batch is still unapplied.
        Returns the ListenerLost if one failed (the caller loses them all)."""
        fronts = self.fronts
        for front in fronts:
            front.busy = True
        try:
            behind = False
            for listener in self._listeners:
                try:
                    events = listener.drain()
                except ListenerLost as exc:
                    return exc
                for event in events:
                    if event is FLUSH:
                        self.flush()
                    else:
                        self._invalidate(event)
                behind = behind or listener.behind
            if behind != self._behind:
                self._set_behind(behind)
                if behind:
                    self._counters.add("backlogs")
            return None
        finally:
            for front in fronts:
                front.busy = False

    def _heartbeat(self, now):
        """PING each listener; lose them all if an answer is overdue or the masters changed."""
        with self._io_lock:
            listeners = self._listeners
            try:
                for listener in listeners:
                    if listener.ping_sent is not None and now - listener.ping_sent > HEARTBEAT_TIMEOUT:
                        raise ListenerLost("a heartbeat went unanswered")
                    listener.ping()
            except ListenerLost as exc:
                lost = exc
            else:
                lost = None
        if lost is None and self._connection.is_cluster and self._masters_changed():
            lost = ListenerLost("the cluster's masters changed")
        if lost is not None:
            self._lose(lost)

    def _covers(self, name):
        try:
            node = self._connection.client.get_node_from_key(name)
        except Exception:
            return False
        return (node.host, node.port) in self._addresses

    def _masters_changed(self):
        try:
            current = {node_host_port(node) for node in self._connection.primaries()}
        except Exception:
            return True
        return current != self._addresses

    def _refresh_topology(self):
        """After a failed connect to a Cluster, ask it again who the masters are:
        redis-py refreshes its map only when one of its own commands fails."""
        client = self._connection.client
        if self._connection.is_cluster and client is not None:
            try:
                client.nodes_manager.initialize()
            except Exception:
                pass

    def _after_fork(self):
        """In a forked child: forget the parent's sockets and entries, trust nothing,
        and start a listener of our own."""
        self._lock = threading.Lock()
        self._io_lock = threading.Lock()
        self.trusted = False  # before anything else: the front must stop serving hits
        self._generation += 1
        for listener in self._listeners:
            listener.forget()
        self._listeners, self._poller, self._thread_poller = [], None, None
        self._pid = os.getpid()
        self.engine.clear()
        self._stop = threading.Event()
        self._thread = None  # started by the first remote read (see token)

    def close(self):
        """Stop the listener thread and close its sockets; the near cache stays bypassed."""
        # Not joined: the thread notices the stop within its 0.2 s poll and
        # holds nothing by then (see _connect_all for one still connecting).
        self._closed = True
        self._stop.set()
        with self._lock:
            self.trusted = False
            self._generation += 1
            self.engine.clear()
        with _owners_lock:
            if _owners.get(id(self.engine)) is self:
                del _owners[id(self.engine)]  # empty now: another cache may take it
        with self._io_lock:
            listeners, self._listeners, self._poller = self._listeners, [], None
            self._thread_poller = None
        for listener in listeners:
            listener.close()

    def __del__(self):
        self._stop.set()


def _listen(near_ref, stop):
    """The background thread: connect (with backoff), read pushes, heartbeat.
    Holds the NearCache only weakly between rounds, so a forgotten cache ends it."""
    delay = _RETRY_FIRST
    first = True
    next_ping = 0.0
    while not stop.is_set():
        near = near_ref()
        if near is None:
            return
        if not near._listeners:
            try:
                near._connect_all()
            except Exception:  # ListenerLost, or the cache's client cannot reach the server
                near._refresh_topology()
                near = None
                stop.wait(delay)
                delay = min(delay * 2, _RETRY_MOST)
                continue
            if not first:
                near._counters.add("reconnects")
            first = False
            delay = _RETRY_FIRST
            next_ping = time.monotonic() + HEARTBEAT_INTERVAL
        poller = near._thread_poller
        now = time.monotonic()
        wait = max(0.0, min(next_ping - now, 0.2))
        near = None  # do not keep the cache alive while blocked
        if poller is None:
            continue
        try:
            ready = poller.poll(wait * 1000.0)
        except (OSError, ValueError):
            ready = True
        near = near_ref()
        if near is None:
            return
        if ready:
            near._read_listeners()
        now = time.monotonic()
        if now >= next_ping and near._listeners:
            near._heartbeat(now)
            next_ping = now + HEARTBEAT_INTERVAL
        near = None
