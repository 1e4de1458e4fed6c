"""AWS adapters: the only modules that call boto3, each translating its errors once."""
