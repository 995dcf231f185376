"""bashcoder.server"""
