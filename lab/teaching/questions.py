"""The course's questions: their names, marks, words, and where each is answered.

``QUESTIONS`` lists every question of the three parts in the hand-out's
order. A *code* question is marked by ``autograder.py``; its exercise sits
in the course files between two comment lines (see lab/teaching/markers.py).
A *written* question (a discussion, an explanation, a drawing) is marked by
a person; ``answered_in`` points to where the lab answers it.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Question:
    """One question: ``qid`` as the markers spell it (``Part 1 Q3``), its marks and its words."""

    qid: str
    title: str
    marks: int
    kind: str  # "code" or "written"
    task: str  # the question's words, as the stub and the edition's README give them
    run: str = ""  # the command that shows the student's answer at work
    answered_in: str = ""  # written questions: where the lab's report answers it

    @property
    def key(self):
        """A short name for flags and file names: ``1.3``."""
        part, number = self.qid.split()[1], self.qid.split()[2][1:]
        return f"{part}.{number}"


QUESTIONS = (
    Question("Part 1 Q1", "NetLin", 1, "code",
             "NetLin: one linear map of the 784 pixels to the 10 classes, followed by log softmax.",
             "python3 kuzu_main.py --net lin"),
    Question("Part 1 Q2", "NetFull", 1, "code",
             "NetFull: a fully connected network with one hidden layer of tanh units (500 by default, "
             "the --hid flag) and log softmax at the output.",
             "python3 kuzu_main.py --net full"),
    Question("Part 1 Q3", "NetConv", 2, "code",
             "NetConv: two convolutional layers and one fully connected hidden layer, all with ReLU, "
             "then the output layer and log softmax (sizes: the --conv1, --conv2, --fc and --dropout flags).",
             "python3 kuzu_main.py --net conv"),
    Question("Part 1 Q4", "discussion", 4, "written",
             "Discuss: (a) the three models' accuracy side by side; (b) the number of independent parameters "
             "of each model, as arithmetic; (c) the confusion matrices: which characters are most often "
             "mistaken for which, and why.",
             answered_in="report.py's Part 1 section (report/index.html), docs/results.md, docs/part1-characters.md"),
    Question("Part 2 Q1", "trained sigmoid network", 1, "code",
             "The 2-layer network's forward pass: hidden units then the output unit, each unit "
             "sigmoid or step as --act says, keeping the hidden activations in self.hid; then train it "
             "with 5 sigmoid hidden units to 100%.",
             "python3 check_main.py --act sig --hid 5"),
    Question("Part 2 Q2", "hand design, step units", 2, "code",
             "Design by hand a network with 4 hidden step units that classifies all 9 points; enter its "
             "weights and biases, and show its dividing lines and activations.",
             "python3 check_main.py --act step --hid 4 --set_weights"),
    Question("Part 2 Q3", "the design rescaled to sigmoids", 1, "code",
             "Rescale the hand design by a large fixed factor (10) so that sigmoid units act like steps "
             "and still classify all 9 points.",
             "python3 check_main.py --act sig --hid 4 --set_weights"),
    Question("Part 3 Q1", "SRN trained on a^n b^2n", 1, "code",
             "Train an SRN with 2 hidden units on a^n b^2n until its loss is below the course's target.",
             "python3 seq_train.py --lang anb2n"),
    Question("Part 3 Q2", "its state machine drawn", 1, "written",
             "Draw the SRN's hidden-unit plot as a finite-state machine: its states, their boundaries "
             "and the transitions.",
             answered_in="seq_fsm.py --lang anb2n (plot/anb2n_srn2_fsm.jpg), report.py's Part 3 section"),
    Question("Part 3 Q3", "how the SRN works", 1, "written",
             "Explain how the SRN accomplishes a^n b^2n: how it counts the A's and then the B's.",
             answered_in="seq_explain.py --lang anb2n, report.py's Part 3 section, docs/part3-recurrent.md"),
    Question("Part 3 Q4", "LSTM trained on a^n b^2n c^3n", 1, "code",
             "Train an LSTM with 3 hidden units on a^n b^2n c^3n until its loss is below the course's target.",
             "python3 seq_train.py --lang anb2nc3n --model lstm --hid 3"),
    Question("Part 3 Q5", "how the LSTM works", 4, "written",
             "Explain how the LSTM accomplishes a^n b^2n c^3n, from its hidden and cell (context) states "
             "and its gates.",
             answered_in="seq_plot.py --context and seq_explain.py --lang anb2nc3n --model lstm, "
                         "report.py's Part 3 section"),
)

BY_ID = {q.qid: q for q in QUESTIONS}
BY_KEY = {q.key: q for q in QUESTIONS}


def code_questions():
    """The questions autograder.py marks."""
    return [q for q in QUESTIONS if q.kind == "code"]


def find(name):
    """A question by key (``1.3``) or id (``Part 1 Q3``, any case); None when there is none."""
    name = " ".join(name.split())
    return BY_KEY.get(name) or next((q for q in QUESTIONS if q.qid.lower() == name.lower()), None)


def not_done(qid):
    """The sentence a stub raises and a command stops with."""
    question = BY_ID[qid]
    marks = f"{question.marks} mark" + "s" * (question.marks > 1)
    return (f"{qid} ({question.title}, {marks}) is not done yet: write it between the lines "
            f"'# >>> {qid}' and '# <<< {qid}'")
