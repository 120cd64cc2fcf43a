"""Part 3, the why: how a trained recurrent network solves its counting task, measured from its own weights.

maps          the network's state update for each input symbol as a function of the state (float64)
fixed_points  fixed and slow points of each symbol's map, their Jacobian eigenvalues and type
boundaries    where the output's prediction switches, as lines or planes in the hidden space
counters      per unit and phase, the change per symbol (a straight-line fit) and the unit that decides
beyond        for n past the training range, every wrong prediction, the first one and why
runs          each phase's run per n as the network makes it, and as one counter unit predicts it
path          an SRN's count along one string: local multipliers, the slow point it passes, its kind
sentences     plain sentences built from those numbers
figures       the flow fields, the decision boundary and the trajectories, drawn
analysis      all of the above for one network, as one dictionary for the run record
"""
