"""The local world: everything that runs the burst story on one machine around the product.

It holds the model harness (fast stand-ins for KEDA, the HPA controller and the cluster), the demo, and the
real-cluster lab. It may import every other package of ours (scaler, load, oci_emulator); none of them imports it.
"""
