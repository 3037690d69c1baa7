"""The simulator's demo credentials: made-up values a local simulator accepts, not secrets (the demo and
`whsync simulate benchling` print them)."""
DEMO_API_KEY = "whsync-demo-key"
DEMO_CLIENT_ID = "whsync-demo-client"
