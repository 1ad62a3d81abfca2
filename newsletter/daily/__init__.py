"""The daily chain of a topic, in the order it runs:

    run_topic -> fetch -> build -> deliver -> fan_out -> send (one job per block of rows)

``steps`` holds what each step does (domain calls that return what the next step
needs), ``jobs`` the thin rq entry points that run a step and enqueue the next,
``dispatch`` where jobs run (rq workers, or inline in the calling process without
Redis) and ``cron`` when the chain starts (each topic's send time) and the sweeper.
``newsletter daily``, ``send`` and ``demo`` take the same path as the workers.
"""
