"""A local runtime with Lambda's semantics: environments, async invoke, SQS mapping, routes."""
