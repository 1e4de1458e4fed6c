"""Wiring: the one place leadsync's clients and adapters are built, for the Lambda functions
and for the `leadsync` commands alike. Each module says what it builds:

- `deadline`: how long a Marketo call may wait, inside the running invocation's time;
- `clients`: the LiveChat clients, the Marketo client on its limiter lane, the shared circuit
  breaker and the guarded writer every lead call goes through;
- `meter`: the call meter, the Marketo calls an invocation made added to the day's counters;
- `fetch`: the fetch's settings, lists, erasures, bulk route and schema gate, and one fetch;
- `upload`, `bulk`: what one execution environment of those functions keeps;
- `digest`, `health`, `webhook`: what those functions need for one invocation.

What a function keeps per execution environment (the token and the HTTP connections survive
between invocations) it caches itself; the deadline follows whichever invocation is running.
"""
