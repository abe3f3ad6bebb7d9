"""Real AWS: plan, deploy, run, collect, price and tear down a scenario on an account.

Planning (``plan``, ``policies``, ``estimate``, ``template``) is pure; ``deploy``, ``inventory`` and
``run`` do the I/O through boto3 with any endpoint, so moto's server and a real account differ only
by the endpoint and the credentials.
"""
