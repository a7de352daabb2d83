"""话务/工单质检: supervisors sample the orders agents took in and score them on the centre's 质检标准; agents see their
own results, confirm or appeal them; a supervisor reviews an appeal. Figures per agent reach 考核指标."""
