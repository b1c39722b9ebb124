"""Settings for every test.

Hypothesis: no per-example deadline. Speed is measured in ``bench/``, not in timed tests;
a 200 ms deadline (Hypothesis' default) failed `test_floors` once at a load average of 5
on this 2-core machine while the property held. A test that sets its own ``deadline``
keeps it.
"""

from hypothesis import settings

settings.register_profile("planner", deadline=None)
settings.load_profile("planner")
