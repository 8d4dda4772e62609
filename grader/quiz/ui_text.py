"""The words around questions (hints, verdicts, headings), in every language the tool speaks."""

from __future__ import annotations

LANGUAGES = ("en", "zh")

_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "correct": "Correct.",
        "partly": "Partly correct.",
        "wrong": "Not correct.",
        "unanswered": "Not answered.",
        "invalid": "Answer not understood",
        "your_answer": "Your answer",
        "expected": "Correct answer",
        "why": "Why",
        "points": "points",
        "point": "point",
        "student": "Student",
        "questions": "questions",
        "hint_single": "Answer with one option id (the code in front of the option).",
        "hint_multiple": "Answer with a list of option ids, like [id1, id2]: every correct one (wrong picks cost points).",
        "hint_true_false": "Answer true or false.",
        "hint_numeric": "Answer with a number.",
        "hint_numeric_unit": "Answer with a number (in {unit}).",
        "hint_short": "Answer with a short text.",
        "hint_ordering": "Answer with the item ids in the right order, e.g. [{example}].",
        "answers_file": "Your answers file",
        "answers_file_intro": "Save your answers as `{file}`: one line per question id (leave out the ones you skip).",
        "notebook_intro": "Fill in each answer cell below, then run the last cell: it writes `{file}`, which you hand in.",
        "notebook_save": "Run this cell to write your answers file.",
        "saved": "Answers saved to {file}.",
        "prompt_answer": "Your answer (empty to skip)",
        "try_again": "Not understood: {why}. Try again.",
        "question_n": "Question {n} of {total}",
        "true": "true",
        "false": "false",
    },
    "zh": {
        "correct": "正确。",
        "partly": "部分正确。",
        "wrong": "不正确。",
        "unanswered": "未作答。",
        "invalid": "无法识别答案",
        "your_answer": "你的答案",
        "expected": "正确答案",
        "why": "解析",
        "points": "分",
        "point": "分",
        "student": "学生",
        "questions": "道题",
        "hint_single": "填写一个选项编号（选项前面的代码）。",
        "hint_multiple": "填写选项编号的列表，形如 [编号1, 编号2]：选出所有正确选项（选错会扣分）。",
        "hint_true_false": "填写 true（对）或 false（错）。",
        "hint_numeric": "填写一个数。",
        "hint_numeric_unit": "填写一个数（单位：{unit}）。",
        "hint_short": "填写简短的文字。",
        "hint_ordering": "按正确顺序填写各项的编号，例如 [{example}]。",
        "answers_file": "你的答案文件",
        "answers_file_intro": "把答案保存为 `{file}`：每道题一行，题目编号后写答案（跳过的题可以不写）。",
        "notebook_intro": "在下面每个答案单元格中填写答案，然后运行最后一个单元格：它会写出要提交的 `{file}`。",
        "notebook_save": "运行此单元格，写出你的答案文件。",
        "saved": "答案已保存到 {file}。",
        "prompt_answer": "你的答案（留空则跳过）",
        "try_again": "无法识别：{why}。请重新输入。",
        "question_n": "第 {n} 题，共 {total} 题",
        "true": "对",
        "false": "错",
    },
}


def t(lang: str, key: str, **kw: object) -> str:
    """The tool's text `key` in `lang` (English when `lang` is not known)."""
    table = _TEXT.get(lang, _TEXT["en"])
    return table.get(key, _TEXT["en"][key]).format(**kw)
