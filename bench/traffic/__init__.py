"""Your own traffic: read what a bucket already records (S3 Inventory, server access logs,
CloudTrail data events, archived S3 event notifications, a plain ``time,key[,size]`` CSV), profile
it per prefix, and decide per prefix on the real busiest minute and the real month.

Readers stream and validate: a bad record is an :class:`TrafficError` naming its file and line; a
record a real log is known to carry (a ``-`` field, a failed request) is counted and reported as a
skip, never dropped silently.
"""

from bench.traffic.model import Access, Op, ReadNotes, TrafficError
from bench.traffic.profile import Grouping, PrefixProfile, profile_traffic
from bench.traffic.sources import FORMATS, read_traffic

__all__ = [
    "FORMATS",
    "Access",
    "Grouping",
    "Op",
    "PrefixProfile",
    "ReadNotes",
    "TrafficError",
    "profile_traffic",
    "read_traffic",
]
