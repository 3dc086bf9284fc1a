"""burst-load: drive real bursts into OCI Queue / Streaming and report what the cluster did."""
