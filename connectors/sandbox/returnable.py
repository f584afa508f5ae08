"""The orders a store can still take back: sold before a cutoff, not yet returned, in the order they were sold.

A store return picks one of them at random. Filtering every order ever sold on each return made the stores'
simulation quadratic in the volume (most of the generator's time at 10k orders a day), so this keeps them in
a Fenwick tree over sale positions instead: counting them and finding the k-th one cost O(log n). The view it
hands out is a sequence exactly like the list the filter built, so `rng.choice(view)` draws the same random
numbers and picks the same order as before, and the world stays byte for byte the same.

The cutoff may move back as well as forward (each store's day runs in its own time zone, so going from
New York's evening to Chicago's morning moves it back): orders move between a heap of those not yet
returnable (by time) and a heap of those that are (latest first).
"""
from __future__ import annotations

import heapq
from typing import Generic, Hashable, TypeVar

Item = TypeVar("Item")


class _Counts:
    """A Fenwick tree of 0/1 flags: how many are set up to a position, and where the k-th set one is."""

    def __init__(self):
        self._tree = [0]  # 1-based; index 0 unused
        self._flags: list[int] = []
        self.total = 0

    def append(self) -> None:
        self._flags.append(0)
        self._tree.append(0)
        # a new node n covers positions (n - lowbit(n), n]: sum the flags it covers (all 0 but earlier ones)
        node = len(self._tree) - 1
        low = node - (node & -node)
        child = node - 1
        while child > low:
            self._tree[node] += self._tree[child]
            child -= child & -child

    def set(self, position: int, flag: int) -> None:
        change = flag - self._flags[position]
        if not change:
            return
        self._flags[position] = flag
        self.total += change
        node = position + 1
        while node < len(self._tree):
            self._tree[node] += change
            node += node & -node

    def kth(self, k: int) -> int:
        """The position of the (k+1)-th set flag (k counts from 0)."""
        if not 0 <= k < self.total:
            raise IndexError(k)
        node, step = 0, 1 << (len(self._tree) - 1).bit_length()
        while step:
            child = node + step
            if child < len(self._tree) and self._tree[child] <= k:
                node = child
                k -= self._tree[child]
            step >>= 1
        return node  # node is 1-based of the last position before it: the 0-based position of the k-th


class ReturnableOrders(Generic[Item]):
    """Orders in sale order, each returnable once the cutoff has passed its time, until it is returned."""

    def __init__(self):
        self._items: list[Item] = []
        self._times: list = []
        self._positions: dict[Hashable, int] = {}
        self._counts = _Counts()
        self._waiting: list[tuple] = []  # (time, position): not yet returnable
        self._open: list[tuple] = []  # (-time as sort key, position): returnable, latest first
        self._returned: set[int] = set()
        self._cutoff = None

    def add(self, key: Hashable, item: Item, at) -> None:
        """Remember a sale; it becomes returnable once a cutoff later than `at` is asked for."""
        position = len(self._items)
        self._items.append(item)
        self._times.append(at)
        self._positions[key] = position
        self._counts.append()
        heapq.heappush(self._waiting, (at, position))
        if self._cutoff is not None and at < self._cutoff:
            self._open_waiting()

    def returned(self, key: Hashable) -> None:
        """A sale comes back at most once: it is never returnable again."""
        position = self._positions[key]
        self._returned.add(position)
        self._counts.set(position, 0)

    def as_of(self, cutoff) -> _ReturnableView[Item]:
        """The orders sold before `cutoff` and not returned, in sale order (valid until the next change)."""
        self._cutoff = cutoff
        self._open_waiting()
        # close what the cutoff no longer reaches (it moved back)
        while self._open and not self._times[self._open[0][1]] < cutoff:
            _, position = heapq.heappop(self._open)
            if position not in self._returned:
                self._counts.set(position, 0)
                heapq.heappush(self._waiting, (self._times[position], position))
        return _ReturnableView(self)

    def _open_waiting(self) -> None:
        while self._waiting and self._waiting[0][0] < self._cutoff:
            at, position = heapq.heappop(self._waiting)
            if position not in self._returned:
                self._counts.set(position, 1)
                heapq.heappush(self._open, (_Latest(at), position))


class _Latest:
    """Orders a max-heap by time (datetimes cannot be negated)."""
    __slots__ = ("at",)

    def __init__(self, at):
        self.at = at

    def __lt__(self, other: _Latest) -> bool:
        return self.at > other.at


class _ReturnableView(Generic[Item]):
    """A read-only sequence of the returnable orders: what `rng.choice` needs (len and index)."""
    __slots__ = ("_orders",)

    def __init__(self, orders: ReturnableOrders[Item]):
        self._orders = orders

    def __len__(self) -> int:
        return self._orders._counts.total

    def __getitem__(self, index: int) -> Item:
        return self._orders._items[self._orders._counts.kth(index)]
