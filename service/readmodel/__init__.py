"""The read model: one clock over every write that changes derived data.

`clock.record` is called by each such write in its own transaction; `clock.position`
reads where the store has come to. `inputs` declares, for each kept answer, the tables it
is made from: a write to one of them without an event in the same transaction leaves
stale answers in whichever processes hold them (the tests' guard fails it).
"""
