"""bashcoder.repl"""
