"""bashcoder.trainer"""
