"""How reentry is deployed: the embedded stack for one machine, manifests for a cluster."""
