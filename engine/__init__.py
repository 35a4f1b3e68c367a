"""Quotient's pure domain core.

Everything here works on aligned columns (numpy arrays) and plain values: no grpc, no protobuf,
no storage, no clock, no global random state. Time, randomness and stores are arguments. The
service layer (``service/``) translates between the outside world and these functions.
"""
