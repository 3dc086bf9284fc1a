"""The local end-to-end harness: KEDA/HPA control loop, cluster model and the burst story on one machine."""
