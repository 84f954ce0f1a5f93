"""ConnectWise PSA: the REST 3.0 client, the conditions builder and site discovery.

from psa.connectwise.client import ConnectWiseClient, replace_ops
from psa.connectwise import conditions as c
"""
