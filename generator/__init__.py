"""Generate typed Python clients from the Docker Engine API specifications."""
