"""Golden tests: the verbatim traces of caef.md (sections 3 and 4) reproduced byte for byte."""
from __future__ import annotations

import re

import pytest

from mathwright.formats import caef as F

# Verbatim executor traces from caef.md (45+67, 5+998, EQUAL, GREATER_THAN, LESS_THAN, REFLECTION, LEFT_MASK,
# and the ADD sub-calls of 52-37).
EXECUTOR_TRACES = [
    'ADD, q0, [HEAD1] |5|4[HEAD2] |7|6 [C] [OUTPUT]\nCMD: [C] 0, [HEAD1] RIGHT, [HEAD2] RIGHT, q1\nADD, q1,  [HEAD1]|5|4 [HEAD2]|7|6 [C]0 [OUTPUT]\nCMD: [C] 1, [OUTPUT] 2, [OUTPUT] RIGHT, [HEAD1] RIGHT, [HEAD2] RIGHT, q1\nADD, q1,  |5[HEAD1]|4 |7[HEAD2]|6 [C]1 |2[OUTPUT]\nCMD: [C] 1, [OUTPUT] 1, [OUTPUT] RIGHT, [HEAD1] RIGHT, [HEAD2] RIGHT, q1\nADD, q1,  |5|4[HEAD1] |7|6[HEAD2] [C]1 |2|1[OUTPUT]\nCMD: [OUTPUT] 1, [OUTPUT], [C], qH\nADD, qH,  |5|4[HEAD1] |7|6[HEAD2] [C]1 |2|1|1\nNo command to execute. Halt state.\n',
    'ADD, q0, [HEAD1] |5[HEAD2] |8|9|9 [C] [OUTPUT]\nCMD: [C] 0, [HEAD1] RIGHT, [HEAD2] RIGHT, q1\nADD, q1,  [HEAD1]|5 [HEAD2]|8|9|9 [C]0 [OUTPUT]\nCMD: [C] 1, [OUTPUT] 3, [OUTPUT] RIGHT, [HEAD1] RIGHT, [HEAD2] RIGHT, q1\nADD, q1,  |5[HEAD1] |8[HEAD2]|9|9 [C]1 |3[OUTPUT]\nCMD: [C] 1, [OUTPUT] 0, [OUTPUT] RIGHT, [HEAD2] RIGHT, q1\nADD, q1,  |5[HEAD1] |8|9[HEAD2]|9 [C]1 |3|0[OUTPUT]\nCMD: [C] 1, [OUTPUT] 0, [OUTPUT] RIGHT, [HEAD2] RIGHT, q1\nADD, q1,  |5[HEAD1] |8|9|9[HEAD2] [C]1 |3|0|0[OUTPUT]\nCMD: [OUTPUT] 1, [OUTPUT], [C], qH\nADD, qH,  |5[HEAD1] |8|9|9[HEAD2] [C]1 |3|0|0|1\nNo command to execute. Halt state.\n',
    'EQUAL, q0, [HEAD1] |3|2|1[HEAD2] |3|2|1 [OUTPUT]\nCMD [HEAD1] RIGHT, [HEAD2] RIGHT, [OUTPUT] True, q1\nEQUAL, q1,  [HEAD1]|3|2|1 [HEAD2]|3|2|1 [OUTPUT]True\nCMD [HEAD1] RIGHT, [HEAD2] RIGHT, q1\nEQUAL, q1,  |3[HEAD1]|2|1 |3[HEAD2]|2|1 [OUTPUT]True\nCMD [HEAD1] RIGHT, [HEAD2] RIGHT, q1\nEQUAL, q1,  |3|2[HEAD1]|1 |3|2[HEAD2]|1 [OUTPUT]True\nCMD [HEAD1] RIGHT, [HEAD2] RIGHT, q1\nEQUAL, q1,  |3|2|1[HEAD1] |3|2|1[HEAD2] [OUTPUT]True\nCMD [OUTPUT], qH\nEQUAL, qH,  |3|2|1[HEAD1] |3|2|1[HEAD2] True\nNo command to execute. Halt state.\n',
    'EQUAL, q0, [HEAD1] |3|2|1[HEAD2] |3|4|1 [OUTPUT]\nCMD [HEAD1] RIGHT, [HEAD2] RIGHT, [OUTPUT] True, q1\nEQUAL, q1,  [HEAD1]|3|2|1 [HEAD2]|3|4|1 [OUTPUT]True\nCMD [HEAD1] RIGHT, [HEAD2] RIGHT, q1\nEQUAL, q1,  |3[HEAD1]|2|1 |3[HEAD2]|4|1 [OUTPUT]True\nCMD [OUTPUT] False, [OUTPUT], qH\nEQUAL, qH,  |3[HEAD1]|2|1 |3[HEAD2]|4|1 False\nNo command to execute. Halt state.\n',
    'GREATER_THAN, q0, [HEAD1] |2|5|3[HEAD2] |7|4|3 [OUTPUT]\nCMD [HEAD1] RIGHT, [HEAD2] RIGHT, [OUTPUT] False, q1\nGREATER_THAN, q1,  [HEAD1]|2|5|3 [HEAD2]|7|4|3 [OUTPUT]False\nCMD [HEAD1] RIGHT, [HEAD2] RIGHT, [OUTPUT] False, q1\nGREATER_THAN, q1,  |2[HEAD1]|5|3 |7[HEAD2]|4|3 [OUTPUT]False\nCMD [HEAD1] RIGHT, [HEAD2] RIGHT, [OUTPUT] True, q1\nGREATER_THAN, q1,  |2|5[HEAD1]|3 |7|4[HEAD2]|3 [OUTPUT]True\nCMD [HEAD1] RIGHT, [HEAD2] RIGHT, q1\nGREATER_THAN, q1,  |2|5|3[HEAD1] |7|4|3[HEAD2] [OUTPUT]True\nCMD [OUTPUT], qH\nGREATER_THAN, qH,  |2|5|3[HEAD1] |7|4|3[HEAD2] True\nNo command to execute. Halt state.\n',
    'GREATER_THAN, q0, [HEAD1] |7|4[HEAD2] |0|5|1 [OUTPUT]\nCMD [HEAD1] RIGHT, [HEAD2] RIGHT, [OUTPUT] False, q1\nGREATER_THAN, q1,  [HEAD1]|7|4 [HEAD2]|0|5|1 [OUTPUT]False\nCMD [HEAD1] RIGHT, [HEAD2] RIGHT, [OUTPUT] True, q1\nGREATER_THAN, q1,  |7[HEAD1]|4 |0[HEAD2]|5|1 [OUTPUT]True\nCMD [HEAD1] RIGHT, [HEAD2] RIGHT, [OUTPUT] False, q1\nGREATER_THAN, q1,  |7|4[HEAD1] |0|5[HEAD2]|1 [OUTPUT]False\nCMD [OUTPUT] False, [OUTPUT], qH\nGREATER_THAN, qH,  |7|4[HEAD1] |0|5[HEAD2]|1 False\nNo command to execute. Halt state.\n',
    'LESS_THAN, q0, [HEAD1] |8|2[HEAD2] |1|3 [OUTPUT]\nCMD [HEAD1] RIGHT, [HEAD2] RIGHT, [OUTPUT] False, q1\nLESS_THAN, q1,  [HEAD1]|8|2 [HEAD2]|1|3 [OUTPUT]False\nCMD [HEAD1] RIGHT, [HEAD2] RIGHT, [OUTPUT] False, q1\nLESS_THAN, q1,  |8[HEAD1]|2 |1[HEAD2]|3 [OUTPUT]False\nCMD [HEAD1] RIGHT, [HEAD2] RIGHT, [OUTPUT] True, q1\nLESS_THAN, q1,  |8|2[HEAD1] |1|3[HEAD2] [OUTPUT]True\nCMD [OUTPUT], qH\nLESS_THAN, qH,  |8|2[HEAD1] |1|3[HEAD2] True\nNo command to execute. Halt state.\n',
    'REFLECTION, q0, [HEAD1] |9|9[HEAD2] |7|3 [OUTPUT]\nCMD [HEAD1] RIGHT, [HEAD2] RIGHT, q1\nREFLECTION, q1,  [HEAD1]|9|9 [HEAD2]|7|3 [OUTPUT]\nCMD [HEAD1] RIGHT, [HEAD2] RIGHT, [OUTPUT] 2, [OUTPUT] RIGHT, q1\nREFLECTION, q1,  |9[HEAD1]|9 |7[HEAD2]|3 |2[OUTPUT]\nCMD [HEAD1] RIGHT, [HEAD2] RIGHT, [OUTPUT] 6, [OUTPUT] RIGHT, q1\nREFLECTION, q1,  |9|9[HEAD1] |7|3[HEAD2] |2|6[OUTPUT]\nCMD q2\nREFLECTION, q2,  |9|9[HEAD1] |7|3[HEAD2] |2|6[OUTPUT]\nCMD [OUTPUT], qH\nREFLECTION, qH,  |9|9[HEAD1] |7|3[HEAD2] |2|6\nNo command to execute. Halt state.\n',
    'REFLECTION, q0, [HEAD1] |9|9|9[HEAD2] |5|9|9 [OUTPUT]\nCMD [HEAD1] RIGHT, [HEAD2] RIGHT, q1\nREFLECTION, q1,  [HEAD1]|9|9|9 [HEAD2]|5|9|9 [OUTPUT]\nCMD [HEAD1] RIGHT, [HEAD2] RIGHT, [OUTPUT] 4, [OUTPUT] RIGHT, q1\nREFLECTION, q1,  |9[HEAD1]|9|9 |5[HEAD2]|9|9 |4[OUTPUT]\nCMD [HEAD1] RIGHT, [HEAD2] RIGHT, [OUTPUT] 0, [OUTPUT] RIGHT, q1\nREFLECTION, q1,  |9|9[HEAD1]|9 |5|9[HEAD2]|9 |4|0[OUTPUT]\nCMD [HEAD1] RIGHT, [HEAD2] RIGHT, [OUTPUT] 0, [OUTPUT] RIGHT, q1\nREFLECTION, q1,  |9|9|9[HEAD1] |5|9|9[HEAD2] |4|0|0[OUTPUT]\nCMD q2\nREFLECTION, q2,  |9|9|9[HEAD1] |5|9|9[HEAD2] |4|0|0[OUTPUT]\nCMD [OUTPUT] LEFT, q2\nREFLECTION, q2,  |9|9|9[HEAD1] |5|9|9[HEAD2] |4|0[OUTPUT]\nCMD [OUTPUT] LEFT, q2\nREFLECTION, q2,  |9|9|9[HEAD1] |5|9|9[HEAD2] |4[OUTPUT]\nCMD [OUTPUT], qH\nREFLECTION, qH,  |9|9|9[HEAD1] |5|9|9[HEAD2] |4\nNo command to execute. Halt state.\n',
    'LEFT_MASK, q0, [HEAD] |5|1|1 [OUTPUT]\nCMD [HEAD] RIGHT, q1\nLEFT_MASK, q1,  [HEAD]|5|1|1 [OUTPUT]\nCMD [HEAD] RIGHT, [OUTPUT] 5, [OUTPUT] RIGHT, q1\nLEFT_MASK, q1,  |5[HEAD]|1|1 |5[OUTPUT]\nCMD [HEAD] RIGHT, [OUTPUT] 1, [OUTPUT] RIGHT, q1\nLEFT_MASK, q1,  |5|1[HEAD]|1 |5|1[OUTPUT]\nCMD [HEAD] RIGHT, [OUTPUT] 1, [OUTPUT] RIGHT, q1\nLEFT_MASK, q1,  |5|1|1[HEAD] |5|1|1[OUTPUT]\nCMD [OUTPUT] LEFT, [OUTPUT] 0, q2\nLEFT_MASK, q2,  |5|1|1[HEAD] |5|1[OUTPUT]\nCMD qH\nLEFT_MASK, qH,  |5|1|1[HEAD] |5|1\nNo command to execute. Halt state.\n',
    'LEFT_MASK, q0, [HEAD] |5|0|0|1 [OUTPUT]\nCMD [HEAD] RIGHT, q1\nLEFT_MASK, q1,  [HEAD]|5|0|0|1 [OUTPUT]\nCMD [HEAD] RIGHT, [OUTPUT] 5, [OUTPUT] RIGHT, q1\nLEFT_MASK, q1,  |5[HEAD]|0|0|1 |5[OUTPUT]\nCMD [HEAD] RIGHT, [OUTPUT] 0, [OUTPUT] RIGHT, q1\nLEFT_MASK, q1,  |5|0[HEAD]|0|1 |5|0[OUTPUT]\nCMD [HEAD] RIGHT, [OUTPUT] 0, [OUTPUT] RIGHT, q1\nLEFT_MASK, q1,  |5|0|0[HEAD]|1 |5|0|0[OUTPUT]\nCMD [HEAD] RIGHT, [OUTPUT] 1, [OUTPUT] RIGHT, q1\nLEFT_MASK, q1,  |5|0|0|1[HEAD] |5|0|0|1[OUTPUT]\nCMD [OUTPUT] LEFT, [OUTPUT] 0, q2\nLEFT_MASK, q2,  |5|0|0|1[HEAD] |5|0|0[OUTPUT]\nCMD [OUTPUT] LEFT, q2\nLEFT_MASK, q2,  |5|0|0|1[HEAD] |5|0[OUTPUT]\nCMD [OUTPUT] LEFT, q2\nLEFT_MASK, q2,  |5|0|0|1[HEAD] |5[OUTPUT]\nCMD qH\nLEFT_MASK, qH,  |5|0|0|1[HEAD] |5\nNo command to execute. Halt state.\n',
    'ADD, q0, [HEAD1] |2|5[HEAD2] |2|6 [C] [OUTPUT]\nCMD: [C] 0, [HEAD1] RIGHT, [HEAD2] RIGHT, q1\nADD, q1,  [HEAD1]|2|5 [HEAD2]|2|6 [C]0 [OUTPUT]\nCMD: [C] 0, [OUTPUT] 4, [OUTPUT] RIGHT, [HEAD1] RIGHT, [HEAD2] RIGHT, q1\nADD, q1,  |2[HEAD1]|5 |2[HEAD2]|6 [C]0 |4[OUTPUT]\nCMD: [C] 1, [OUTPUT] 1, [OUTPUT] RIGHT, [HEAD1] RIGHT, [HEAD2] RIGHT, q1\nADD, q1,  |2|5[HEAD1] |2|6[HEAD2] [C]1 |4|1[OUTPUT]\nCMD: [OUTPUT] 1, [OUTPUT], [C], qH\nADD, qH,  |2|5[HEAD1] |2|6[HEAD2] [C]1 |4|1|1\nNo command to execute. Halt state.\n',
    'ADD, q0, [HEAD1] |4|1|1[HEAD2] |1 [C] [OUTPUT]\nCMD: [C] 0, [HEAD1] RIGHT, [HEAD2] RIGHT, q1\nADD, q1,  [HEAD1]|4|1|1 [HEAD2]|1 [C]0 [OUTPUT]\nCMD: [C] 0, [OUTPUT] 5, [OUTPUT] RIGHT, [HEAD1] RIGHT, [HEAD2] RIGHT, q1\nADD, q1,  |4[HEAD1]|1|1 |1[HEAD2] [C]0 |5[OUTPUT]\nCMD: [C] 0, [OUTPUT] 1, [OUTPUT] RIGHT, [HEAD1] RIGHT, q1\nADD, q1,  |4|1[HEAD1]|1 |1[HEAD2] [C]0 |5|1[OUTPUT]\nCMD: [C] 0, [OUTPUT] 1, [OUTPUT] RIGHT, [HEAD1] RIGHT, q1\nADD, q1,  |4|1|1[HEAD1] |1[HEAD2] [C]0 |5|1|1[OUTPUT]\nCMD: [OUTPUT] 0, [OUTPUT], [C], qH\nADD, qH,  |4|1|1[HEAD1] |1[HEAD2] [C]0 |5|1|1\nNo command to execute. Halt state.\n',
]

# Verbatim composer steps (SUB 52-37, MUL 13x3, DIV 47//15; '…' elides steps in the spec).
COMPOSER_TRACES = [
    '--- composer step 0 PROMPT:\nSUB, q0, [HEAD1]|2|5 [HEAD2]|7|3 \nCMD q1\n--- composer step 0 RESPONSE:\nSUB, q1, [HEAD1]|2|5 [HEAD2]|7|3 \nCMD [CALL] REFLECTION, q2\nREFLECTION, q0, [HEAD1] |9|9[HEAD2] |7|3 [OUTPUT]\nCMD [HEAD1] RIGHT, [HEAD2] RIGHT, q1\n--- composer step 1 PROMPT:\nSUB, q1, [HEAD1]|2|5 [HEAD2]|7|3 \nCMD [CALL] REFLECTION, q2\nREFLECTION, qH,  |9|9[HEAD1] |7|3[HEAD2] |2|6\nNo command to execute. Halt state.\n--- composer step 1 RESPONSE:\nSUB, q2, [HEAD1]|2|5 [HEAD2]|7|3 \nCMD [CALL] ADD, q3\nADD, q0, [HEAD1] |2|5[HEAD2] |2|6 [C] [OUTPUT]\nCMD: [C] 0, [HEAD1] RIGHT, [HEAD2] RIGHT, q1\n--- composer step 2 PROMPT:\nSUB, q2, [HEAD1]|2|5 [HEAD2]|7|3 \nCMD [CALL] ADD, q3\nADD, qH,  |2|5[HEAD1] |2|6[HEAD2] [C]0 |4|1|1\nNo command to execute. Halt state.\n--- composer step 2 RESPONSE:\nSUB, q3, [HEAD1]|2|5 [HEAD2]|7|3 \nCMD [CALL] ADD, q4\nADD, q0, [HEAD1] |4|1|1[HEAD2] |1 [C] [OUTPUT]\nCMD: [C] 0, [HEAD1] RIGHT, [HEAD2] RIGHT, q1\n--- composer step 3 PROMPT:\nSUB, q3, [HEAD1]|2|5 [HEAD2]|7|3 \nCMD [CALL] ADD, q4\nADD, qH,  |4|1|1[HEAD1] |1[HEAD2] [C]0 |5|1|1\nNo command to execute. Halt state.\n--- composer step 3 RESPONSE:\nSUB, q4, [HEAD1]|2|5 [HEAD2]|7|3 \nCMD [CALL] LEFT_MASK, qH\nLEFT_MASK, q0, [HEAD] |5|1|1 [OUTPUT]\nCMD [HEAD] RIGHT, q1\n--- composer step 4 PROMPT:\nSUB, q4, [HEAD1]|2|5 [HEAD2]|7|3 \nCMD [CALL] LEFT_MASK, qH\nLEFT_MASK, qH,  |5|1|1[HEAD] |5|1\nNo command to execute. Halt state.\n--- composer step 4 RESPONSE:\nSUB, qH, [HEAD1]|2|5 [HEAD2]|7|3 |5|1\nNo command to execute. Halt state.\n',
    '--- composer step 0 PROMPT:\nMUL, q0, [HEAD1]|3|1 [HEAD2]|3 [COUNT] [OUTPUT]\nCMD [COUNT] 1, [OUTPUT]|3|1, q1\n--- composer step 0 RESPONSE:\nMUL, q1, [HEAD1]|3|1 [HEAD2]|3 [COUNT]|1 [OUTPUT]|3|1\nCMD [CALL] LESS_THAN, q2\nLESS_THAN, q0, [HEAD1] |1[HEAD2] |3 [OUTPUT]\nCMD [HEAD1] RIGHT, [HEAD2] RIGHT, [OUTPUT] False, q1\n--- composer step 1 PROMPT:\nMUL, q1, [HEAD1]|3|1 [HEAD2]|3 [COUNT]|1 [OUTPUT]|3|1\nCMD [CALL] LESS_THAN, q2\nLESS_THAN, qH,  |1[HEAD1] |3[HEAD2] True\nNo command to execute. Halt state.\n--- composer step 1 RESPONSE:\nMUL, q2, [HEAD1]|3|1 [HEAD2]|3 [COUNT]|1 [OUTPUT]|3|1\nCMD [CALL] ADD, q3\nADD, q0, [HEAD1] |3|1[HEAD2] |3|1 [C] [OUTPUT]\nCMD: [C] 0, [HEAD1] RIGHT, [HEAD2] RIGHT, q1\n--- composer step 2 PROMPT:\nMUL, q2, [HEAD1]|3|1 [HEAD2]|3 [COUNT]|1 [OUTPUT]|3|1\nCMD [CALL] ADD, q3\nADD, qH,  |3|1[HEAD1] |3|1[HEAD2] [C]0 |6|2\nNo command to execute. Halt state.\n--- composer step 2 RESPONSE:\nMUL, q3, [HEAD1]|3|1 [HEAD2]|3 [COUNT]|1 [OUTPUT]|6|2\nCMD [CALL] ADD, q1\nADD, q0, [HEAD1] |1[HEAD2] |1 [C] [OUTPUT]\nCMD: [C] 0, [HEAD1] RIGHT, [HEAD2] RIGHT, q1\n--- composer step 3 PROMPT:\nMUL, q3, [HEAD1]|3|1 [HEAD2]|3 [COUNT]|1 [OUTPUT]|6|2\nCMD [CALL] ADD, q1\nADD, qH,  |1[HEAD1] |1[HEAD2] [C]0 |2\nNo command to execute. Halt state.\n--- composer step 3 RESPONSE:\nMUL, q1, [HEAD1]|3|1 [HEAD2]|3 [COUNT]|2 [OUTPUT]|6|2\nCMD [CALL] LESS_THAN, q2\nLESS_THAN, q0, [HEAD1] |2[HEAD2] |3 [OUTPUT]\nCMD [HEAD1] RIGHT, [HEAD2] RIGHT, [OUTPUT] False, q1\n--- composer step 4 PROMPT:\nMUL, q1, [HEAD1]|3|1 [HEAD2]|3 [COUNT]|2 [OUTPUT]|6|2\nCMD [CALL] LESS_THAN, q2\nLESS_THAN, qH,  |2[HEAD1] |3[HEAD2] True\nNo command to execute. Halt state.\n--- composer step 4 RESPONSE:\nMUL, q2, [HEAD1]|3|1 [HEAD2]|3 [COUNT]|2 [OUTPUT]|6|2\nCMD [CALL] ADD, q3\nADD, q0, [HEAD1] |3|1[HEAD2] |6|2 [C] [OUTPUT]\nCMD: [C] 0, [HEAD1] RIGHT, [HEAD2] RIGHT, q1\n--- composer step 5 PROMPT:\nMUL, q2, [HEAD1]|3|1 [HEAD2]|3 [COUNT]|2 [OUTPUT]|6|2\nCMD [CALL] ADD, q3\nADD, qH,  |3|1[HEAD1] |6|2[HEAD2] [C]0 |9|3\nNo command to execute. Halt state.\n--- composer step 5 RESPONSE:\nMUL, q3, [HEAD1]|3|1 [HEAD2]|3 [COUNT]|2 [OUTPUT]|9|3\nCMD [CALL] ADD, q1\nADD, q0, [HEAD1] |2[HEAD2] |1 [C] [OUTPUT]\nCMD: [C] 0, [HEAD1] RIGHT, [HEAD2] RIGHT, q1\n--- composer step 6 PROMPT:\nMUL, q3, [HEAD1]|3|1 [HEAD2]|3 [COUNT]|2 [OUTPUT]|9|3\nCMD [CALL] ADD, q1\nADD, qH,  |2[HEAD1] |1[HEAD2] [C]0 |3\nNo command to execute. Halt state.\n--- composer step 6 RESPONSE:\nMUL, q1, [HEAD1]|3|1 [HEAD2]|3 [COUNT]|3 [OUTPUT]|9|3\nCMD [CALL] LESS_THAN, q2\nLESS_THAN, q0, [HEAD1] |3[HEAD2] |3 [OUTPUT]\nCMD [HEAD1] RIGHT, [HEAD2] RIGHT, [OUTPUT] False, q1\n--- composer step 7 PROMPT:\nMUL, q1, [HEAD1]|3|1 [HEAD2]|3 [COUNT]|3 [OUTPUT]|9|3\nCMD [CALL] LESS_THAN, q2\nLESS_THAN, qH,  |3[HEAD1] |3[HEAD2] False\nNo command to execute. Halt state.\n--- composer step 7 RESPONSE:\nMUL, qH, [HEAD1]|3|1 [HEAD2]|3 [COUNT]|3 |9|3\nNo command to execute. Halt state.\n',
    '--- composer step 0 PROMPT:\nDIV, q0, [HEAD1]|7|4 [HEAD2]|5|1 [COUNT] [OUTPUT]\nCMD [COUNT]|5|1, [OUTPUT] 0, q1\n--- composer step 0 RESPONSE:\nDIV, q1, [HEAD1]|7|4 [HEAD2]|5|1 [COUNT]|5|1 [OUTPUT]|0\nCMD [CALL] GREATER_THAN, q2\nGREATER_THAN, q0, [HEAD1] |5|1[HEAD2] |7|4 [OUTPUT]\nCMD [HEAD1] RIGHT, [HEAD2] RIGHT, [OUTPUT] False, q1\n--- composer step 1 PROMPT:\nDIV, q1, [HEAD1]|7|4 [HEAD2]|5|1 [COUNT]|5|1 [OUTPUT]|0\nCMD [CALL] GREATER_THAN, q2\nGREATER_THAN, qH,  |5|1[HEAD1] |7|4[HEAD2] False\nNo command to execute. Halt state.\n--- composer step 1 RESPONSE:\nDIV, q2, [HEAD1]|7|4 [HEAD2]|5|1 [COUNT]|5|1 [OUTPUT]|0\nCMD [CALL] ADD, q3\nADD, q0, [HEAD1] |0[HEAD2] |1 [C] [OUTPUT]\nCMD: [C] 0, [HEAD1] RIGHT, [HEAD2] RIGHT, q1\n--- composer step 2 PROMPT:\nDIV, q2, [HEAD1]|7|4 [HEAD2]|5|1 [COUNT]|5|1 [OUTPUT]|0\nCMD [CALL] ADD, q3\nADD, qH,  |0[HEAD1] |1[HEAD2] [C]0 |1\nNo command to execute. Halt state.\n--- composer step 2 RESPONSE:\nDIV, q3, [HEAD1]|7|4 [HEAD2]|5|1 [COUNT]|5|1 [OUTPUT]|1\nCMD [CALL] ADD, q1\nADD, q0, [HEAD1] |5|1[HEAD2] |5|1 [C] [OUTPUT]\nCMD: [C] 0, [HEAD1] RIGHT, [HEAD2] RIGHT, q1\n--- composer step 3 PROMPT:\nDIV, q3, [HEAD1]|7|4 [HEAD2]|5|1 [COUNT]|5|1 [OUTPUT]|1\nCMD [CALL] ADD, q1\nADD, qH,  |5|1[HEAD1] |5|1[HEAD2] [C]0 |0|3\nNo command to execute. Halt state.\n--- composer step 3 RESPONSE:\nDIV, q1, [HEAD1]|7|4 [HEAD2]|5|1 [COUNT]|0|3 [OUTPUT]|1\nCMD [CALL] GREATER_THAN, q2\nGREATER_THAN, q0, [HEAD1] |0|3[HEAD2] |7|4 [OUTPUT]\nCMD [HEAD1] RIGHT, [HEAD2] RIGHT, [OUTPUT] False, q1\n… (composer steps 4–9: two more loop iterations) …\n--- composer step 10 PROMPT:\nDIV, q1, [HEAD1]|7|4 [HEAD2]|5|1 [COUNT]|0|6 [OUTPUT]|3\nCMD [CALL] GREATER_THAN, q2\nGREATER_THAN, qH,  |0|6[HEAD1] |7|4[HEAD2] True\nNo command to execute. Halt state.\n--- composer step 10 RESPONSE:\nDIV, qH, [HEAD1]|7|4 [HEAD2]|5|1 [COUNT]|0|6 |3\nNo command to execute. Halt state.\n',
]


def _operands(first_line: str) -> tuple[str, str, str]:
    name = first_line.split(",", 1)[0]
    x = F.parse_state(first_line) if name in F.EXECUTORS else F.parse_comp_state(first_line)
    return name, x.a, x.b


@pytest.mark.parametrize("block", EXECUTOR_TRACES, ids=lambda b: b.split(",", 1)[0] + ":" + b.split("\n", 1)[0][-30:])
def test_executor_trace_verbatim(block: str) -> None:
    lines = block.rstrip("\n").split("\n")
    name, a, b = _operands(lines[0])
    assert F.trace(name, a, b) == lines


@pytest.mark.parametrize("block", COMPOSER_TRACES, ids=lambda b: b.split("\n")[1].split(",", 1)[0])
def test_composer_steps_verbatim(block: str) -> None:
    parts = re.split(r"^--- composer step (\d+) (PROMPT|RESPONSE):\n", block, flags=re.M)
    name, a, b = _operands(parts[3].split("\n", 1)[0])
    pairs = F.step_pairs(name, a, b, compat=True)
    seen = 0
    for k, kind, text in zip(parts[1::3], parts[2::3], parts[3::3]):
        text = text.split("…")[0].rstrip("\n")
        if not text:
            continue
        prompt, response = pairs[int(k)]
        assert text == (prompt if kind == "PROMPT" else response).rstrip("\n"), (k, kind)
        seen += 1
    assert seen >= 6
    # transition counts of section 5: SUB 5, MUL 3b-1, DIV 3q+2
    assert len(pairs) == {"SUB": 5, "MUL": 3 * 3 - 1, "DIV": 3 * 3 + 2}[name]


def test_sub_full_trace_inlines_its_four_callees() -> None:
    lines = F.trace("SUB", "25", "73")
    callees = [ln.split(",")[0] for ln in lines if ", q0," in ln][1:]
    assert callees == ["REFLECTION", "ADD", "ADD", "LEFT_MASK"]
    for block in EXECUTOR_TRACES:  # each verbatim sub-trace appears contiguously inside the SUB trace
        sub = block.rstrip("\n").split("\n")
        if sub[0] in ("REFLECTION, q0, [HEAD1] |9|9[HEAD2] |7|3 [OUTPUT]", "LEFT_MASK, q0, [HEAD] |5|1|1 [OUTPUT]",
                      "ADD, q0, [HEAD1] |2|5[HEAD2] |2|6 [C] [OUTPUT]", "ADD, q0, [HEAD1] |4|1|1[HEAD2] |1 [C] [OUTPUT]"):
            i = lines.index(sub[0])
            assert lines[i:i + len(sub)] == sub


def test_fixed_variant_uses_real_callee_halt_lines() -> None:
    compat = F.step_pairs("SUB", "25", "73", compat=True)
    fixed = F.step_pairs("SUB", "25", "73", compat=False)
    assert "[C]0 |4|1|1" in compat[2][0] and "[C]1 |4|1|1" in fixed[2][0]
    assert F.step_pairs("SUB", "5001", "0001", compat=True)[4][0].split("\n")[2].endswith("|5|0|0|0")
    assert F.step_pairs("SUB", "5001", "0001", compat=False)[4][0].split("\n")[2].endswith("[HEAD] |5")
    mul = F.step_pairs("MUL", "2", "21", compat=True)  # 2 x 12: counter 10 written in normal order
    assert any("LESS_THAN, qH,  |1|0[HEAD1] |2|1[HEAD2] True" in p for p, _ in mul)
    # both variants' prompts are understood by the oracle and answered with the same response
    for (p1, r1), (p2, r2) in zip(compat, fixed):
        assert F.oracle_response(p1).rstrip("\n") == r1.rstrip("\n") == r2.rstrip("\n")


@pytest.mark.parametrize("text,q0", [
    ("45+67=", "ADD, q0, [HEAD1] |5|4[HEAD2] |7|6 [C] [OUTPUT]\nCMD: [C] 0, [HEAD1] RIGHT, [HEAD2] RIGHT, q1\n"),
    ("52-37=", "SUB, q0, [HEAD1]|2|5 [HEAD2]|7|3 \nCMD q1\n"),
    ("13*3=", "MUL, q0, [HEAD1]|3|1 [HEAD2]|3 [COUNT] [OUTPUT]\nCMD [COUNT] 1, [OUTPUT]|3|1, q1\n"),
    ("47//15=", "DIV, q0, [HEAD1]|7|4 [HEAD2]|5|1 [COUNT] [OUTPUT]\nCMD [COUNT]|5|1, [OUTPUT] 0, q1\n"),
])
def test_input_aligner(text: str, q0: str) -> None:
    assert F.aligner_input(text) == q0


@pytest.mark.parametrize("a,op,b,want", [("45", "+", "67", "45+67=112"), ("352", ">", "347", "352>347=True"),
                                         ("52", "-", "37", "52-37=15"), ("13", "*", "3", "13*3=39"),
                                         ("47", "//", "15", "47//15=3")])
def test_output_aligner(a: str, op: str, b: str, want: str) -> None:
    lines = F.trace(F.OP_OF_SYMBOL[op], a[::-1], b[::-1])
    assert lines[-1] == F.HALT_LINE
    assert F.aligner_output(lines[-2] + "\n" + lines[-1]) == want


def test_zero_result_edge_cases_of_the_reference() -> None:
    assert F.trace("LEFT_MASK", "001")[-2] == "LEFT_MASK, qH,  |0|0|1[HEAD] 0"
    refl = F.trace("REFLECTION", "99", "99")
    assert "REFLECTION, q2,  |9|9[HEAD1] |9|9[HEAD2] |[OUTPUT]" in refl
    assert refl[-2] == "REFLECTION, qH,  |9|9[HEAD1] |9|9[HEAD2] |0"
    assert len(F.trace("LEFT_MASK", "5001")) // 2 == 10  # 1005 -> 10 states (section 5)


def test_parse_rejects_near_misses() -> None:
    good = "ADD, q1,  |5[HEAD1]|4 |7[HEAD2]|6 [C]1 |2[OUTPUT]"
    assert F.state_line(F.parse_state(good)) == good
    for bad in (good.replace("q1,  ", "q1, "), good.replace("[C]1", "[C] 1"), good + " ", "ADD, q1,  junk"):
        with pytest.raises(ValueError):
            F.parse_state(bad)
