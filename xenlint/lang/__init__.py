"""The rules' condition language: the lark grammars, the compiler from parse tree to
Python closures, the runtime values conditions work on, and version orderings."""
